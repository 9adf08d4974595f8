// Package admin serves Parley's administrative HTTP API: JSON over HTTP,
// authenticated with one bearer token, spoken by parleyctl.
//
// Routes under /v1 need "Authorization: Bearer <token>":
//
//	POST   /v1/users                  create a user {"username","password","display","home"}
//	GET    /v1/users?limit=&offset=   list users (X-Total-Count holds the total)
//	GET    /v1/users/{name}           one user
//	DELETE /v1/users/{name}           delete a user and its bindings
//	PUT    /v1/users/{name}/password  {"password"}
//	PUT    /v1/users/{name}/enabled   {"enabled"}
//	PUT    /v1/users/{name}/home      {"home"}: node id overriding the assignment rule ("" clears)
//	POST   /v1/users/import           text/csv: username,password[,display]
//	GET    /v1/bindings[?user=NAME]   registered contacts
//	GET    /v1/cluster                this node's view of the raft cluster
//
// /healthz (the process runs), /readyz (the cluster has a leader and this
// node has caught up) and /metrics (Prometheus) need no token, so probes
// and scrapers work without the secret.
//
// A {name} is "user" for the default domain or "user@domain". Output never
// contains password hashes. Errors are JSON {"error": "..."} with 400 for
// invalid input, 401 for a missing or wrong token, 404, 405, 409 when a
// user exists, 413 for a body over 1 MiB (64 MiB for imports), 415 for a
// wrong Content-Type, and 503 when the cluster has no leader to write to.
package admin
