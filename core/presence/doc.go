// Package presence is Parley's SIMPLE presence agent, part of User
// Services: it accepts PUBLISH (RFC 3903) for our users, keeps
// SUBSCRIBE/NOTIFY dialogs (RFC 6665, RFC 3856) for the presence and
// presence.winfo (RFC 3857) event packages, decides per watcher what it
// may see (allow, block, pending: the user's pres-rules), composes one
// state per user from all its publications, registrations and calendar
// (core/presdoc), and notifies every watcher on each change.
//
// Publications, subscriptions and rules live in the replicated state, so
// a PUBLISH accepted by one node reaches watchers subscribed through
// another, and subscriptions survive a restart. NOTIFYs for a
// subscription are sent by its home node, down the watcher's flow.
package presence
