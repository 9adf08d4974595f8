// Package presdoc parses and builds the presence documents Parley
// exchanges: PIDF (RFC 3863) with RPID (RFC 4480) extensions,
// presence-watcher information (RFC 3858) and RLMI resource lists
// (RFC 4662), and maps them to and from LCS 2005's availability levels.
//
// Parse reads one publication (application/pidf+xml) into a Document and
// Document.Availability reduces it to one of seven levels; Aggregate joins
// the live publications of one user into one level and one document, and
// Override applies the registrar's and calendar's facts on top. Compose
// writes the document watchers receive. ComposeWatcherInfo and ComposeList
// build the bodies of presence.winfo and list (RLS) notifications; their
// Parse counterparts exist for tests and clients.
//
// Parsing is strict about the envelope and lenient inside it: the body must
// be well-formed XML without a DOCTYPE, within the size, depth and element
// limits below, with the right root element, matched by namespace URI (never
// by prefix). Unknown elements and namespaces are ignored, since PIDF is
// extensible, and odd values inside (a basic status that is neither open nor
// closed, a priority that is not a number) read as absent. Errors wrap
// ErrMalformed or ErrTooLarge. docs/presence.md has the mapping tables and
// the aggregation rules.
package presdoc

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrMalformed: not a well-formed document of the expected kind, a
	// DOCTYPE, nesting deeper than the limit, or an invalid required value.
	ErrMalformed = errors.New("malformed document")
	// ErrTooLarge: the body or its element count is over the limit.
	ErrTooLarge = errors.New("document too large")
	// ErrUnknownAvailability: ParseAvailability got a name it does not know.
	ErrUnknownAvailability = errors.New("unknown availability")
)

// Limits of Parse (PIDF publications).
const (
	MaxPIDFBytes    = 64 << 10 // larger bodies: ErrTooLarge
	MaxPIDFElements = 2000     // more elements: ErrTooLarge
	MaxDepth        = 32       // deeper nesting: ErrMalformed
)

// Limits of ParseWatcherInfo and of the RLMI document ParseList reads,
// which grow with the number of watchers or list members.
const (
	MaxListBytes    = 1 << 20
	MaxListElements = 50000
)

// XML namespaces, matched by URI.
const (
	nsPIDF  = "urn:ietf:params:xml:ns:pidf"
	nsDM    = "urn:ietf:params:xml:ns:pidf:data-model"
	nsRPID  = "urn:ietf:params:xml:ns:pidf:rpid"
	nsOldRP = "urn:ietf:params:xml:ns:pidf:status:rpid-status" // pre-RFC RPID draft (old Linphone, eXosip, X-Lite)
	nsWinfo = "urn:ietf:params:xml:ns:watcherinfo"
	nsRLMI  = "urn:ietf:params:xml:ns:rlmi"
)

const (
	xmlDecl  = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	errorPfx = "presdoc: " // every error starts with it
)
