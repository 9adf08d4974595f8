package xcap

import (
	"bytes"
	"errors"
	"fmt"
)

// Errors returned (wrapped) by this package and by Store implementations.
// Compare with [errors.Is].
var (
	// ErrNotFound: no such document.
	ErrNotFound = errors.New("xcap: document not found")
	// ErrPrecondition: the document's ETag did not satisfy If-Match or
	// If-None-Match.
	ErrPrecondition = errors.New("xcap: precondition failed")
	// ErrInvalidDocument: the document is not well formed or breaks its
	// application usage's schema or constraints.
	ErrInvalidDocument = errors.New("xcap: invalid document")
)

// errSelector marks a node selector or query that does not parse (400).
var errSelector = errors.New("xcap: invalid node selector")

// XCAP error conditions (RFC 4825 section 11.2), the element names of an
// application/xcap-error+xml body.
const (
	condNotWellFormed = "not-well-formed"
	condNotFragment   = "not-xml-frag"
	condNoParent      = "no-parent"
	condSchema        = "schema-validation-error"
	condNotAttValue   = "not-xml-att-value"
	condCannotInsert  = "cannot-insert"
	condCannotDelete  = "cannot-delete"
	condUniqueness    = "uniqueness-failure"
	condConstraint    = "constraint-failure"
	condNotUTF8       = "not-utf-8"
)

const (
	xcapErrorNamespace = "urn:ietf:params:xml:ns:xcap-error"
	xcapErrorMediaType = "application/xcap-error+xml"
	maxPhraseLen       = 200 // bytes of detail in a phrase attribute
)

// conflict is a 409 condition. It wraps ErrInvalidDocument.
type conflict struct {
	cond   string // element name, one of the cond* constants
	phrase string // human readable detail
	field  string // uniqueness-failure: node selector of the clashing value
	anc    string // no-parent: URI of the closest existing ancestor
}

func (c *conflict) Error() string {
	if c.phrase == "" {
		return fmt.Sprintf("%v: %s", ErrInvalidDocument, c.cond)
	}
	return fmt.Sprintf("%v: %s: %s", ErrInvalidDocument, c.cond, c.phrase)
}

func (c *conflict) Unwrap() error { return ErrInvalidDocument }

func newConflict(cond, format string, args ...any) *conflict {
	return &conflict{cond: cond, phrase: fmt.Sprintf(format, args...)}
}

// body renders the application/xcap-error+xml document.
func (c *conflict) body() []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	b.WriteString(`<xcap-error xmlns="` + xcapErrorNamespace + `">`)
	b.WriteString("<" + c.cond)
	if p := c.phrase; p != "" {
		if len(p) > maxPhraseLen {
			p = p[:maxPhraseLen]
		}
		b.WriteString(` phrase="`)
		escapeAttr(&b, toValidText(p))
		b.WriteString(`"`)
	}
	switch {
	case c.field != "":
		b.WriteString(`><exists field="`)
		escapeAttr(&b, c.field)
		b.WriteString(`"/></` + c.cond + ">")
	case c.anc != "":
		b.WriteString("><ancestor>")
		escapeText(&b, c.anc)
		b.WriteString("</ancestor></" + c.cond + ">")
	default:
		b.WriteString("/>")
	}
	b.WriteString("</xcap-error>\n")
	return b.Bytes()
}
