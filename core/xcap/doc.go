// Package xcap serves XCAP (RFC 4825) for the two application usages SIP
// clients use to manage presence: resource-lists (RFC 4826, contact lists
// and groups) and pres-rules (RFC 5025, who may see my presence), plus
// xcap-caps. It authenticates with HTTP digest against the same user
// credentials as SIP.
//
// URIs follow RFC 4825 section 6:
//
//	{root}/resource-lists/users/{xui}/{doc}[/~~/{node-selector}]   application/resource-lists+xml
//	{root}/pres-rules/users/{xui}/{doc}[/~~/{node-selector}]       application/auth-policy+xml
//	{root}/xcap-caps/global/index                                  application/xcap-caps+xml
//
// The xui is the user's SIP URI, percent-encoded or not; documents are
// stored under its canonical form (see [CanonicalXUI]). GET, PUT and DELETE
// work on whole documents and, through a node selector, on one element
// (steps name, name[N], name[@attr="value"], name[N][@attr="value"] and *)
// or one attribute (/@attr); /namespace::* answers GET. Unprefixed names in
// a selector are in the application usage's default namespace (RFC 4825
// section 6.3): resource-lists for resource-lists, pres-rules (not
// common-policy, RFC 5025 section 9.4) for pres-rules; other prefixes are
// bound by the query (?xmlns(cp=urn:ietf:params:xml:ns:common-policy)).
//
// Every answer about an existing document carries its ETag; If-Match and
// If-None-Match are honoured. Documents that are not well formed, not in
// UTF-8, carry a DTD, break the application usage's schema or its
// uniqueness constraints, and element or attribute writes that would not be
// selected by their own URI are refused with 409 and an application/xcap-
// error+xml body. Users may only touch documents under their own xui (the
// digest identity user@realm must equal the xui's user@domain); xcap-caps
// needs no credentials.
//
// [ParseResourceLists], [ParsePresRules], [ComposeResourceLists] and
// [ComposePresRules] give the presence agent and the admin tools typed
// views of the two documents. [Store] is what the daemon implements on the
// replicated state; [NewMemStore] is an in-memory one.
package xcap
