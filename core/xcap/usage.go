package xcap

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Namespaces of the application usages.
const (
	NamespaceResourceLists = "urn:ietf:params:xml:ns:resource-lists"
	NamespaceCommonPolicy  = "urn:ietf:params:xml:ns:common-policy"
	NamespacePresRules     = "urn:ietf:params:xml:ns:pres-rules"
	NamespaceXCAPCaps      = "urn:ietf:params:xml:ns:xcap-caps"
)

// Application unique IDs served.
const (
	AUIDResourceLists = "resource-lists"
	AUIDPresRules     = "pres-rules"
	AUIDXCAPCaps      = "xcap-caps"
)

// Media types of the bodies exchanged.
const (
	mediaResourceLists = "application/resource-lists+xml"
	mediaAuthPolicy    = "application/auth-policy+xml"
	mediaXCAPCaps      = "application/xcap-caps+xml"
	mediaElement       = "application/xcap-el+xml"
	mediaAttribute     = "application/xcap-att+xml"
	mediaNamespaces    = "application/xcap-ns+xml"
)

// usage is an XCAP application usage (RFC 4825 section 5).
type usage struct {
	auid      string
	mediaType string
	defaultNS string // of unprefixed names in node selectors
	global    bool   // a single global document, read-only
	validate  func(*document) error
}

var usages = map[string]*usage{
	AUIDResourceLists: {
		auid: AUIDResourceLists, mediaType: mediaResourceLists,
		defaultNS: NamespaceResourceLists, validate: validateResourceLists,
	},
	AUIDPresRules: {
		// RFC 5025 section 9.4: the default namespace is pres-rules, so
		// common-policy names need a prefix bound in the query.
		auid: AUIDPresRules, mediaType: mediaAuthPolicy,
		defaultNS: NamespacePresRules, validate: validatePresRules,
	},
	AUIDXCAPCaps: {
		auid: AUIDXCAPCaps, mediaType: mediaXCAPCaps,
		defaultNS: NamespaceXCAPCaps, global: true,
	},
}

// capsDocument is the global xcap-caps document (RFC 4825 section 12).
var capsDocument = []byte(xmlDecl + `<xcap-caps xmlns="` + NamespaceXCAPCaps + `">
  <auids>
    <auid>` + AUIDXCAPCaps + `</auid>
    <auid>` + AUIDResourceLists + `</auid>
    <auid>` + AUIDPresRules + `</auid>
  </auids>
  <namespaces>
    <namespace>` + NamespaceXCAPCaps + `</namespace>
    <namespace>` + xcapErrorNamespace + `</namespace>
    <namespace>` + NamespaceResourceLists + `</namespace>
    <namespace>` + NamespaceCommonPolicy + `</namespace>
    <namespace>` + NamespacePresRules + `</namespace>
  </namespaces>
</xcap-caps>
`)

var capsETag = func() string {
	sum := sha256.Sum256(capsDocument)
	return "caps-" + hex.EncodeToString(sum[:8])
}()

// checkElementOnly refuses non-whitespace text directly inside n, whose
// schema type has element-only content.
func checkElementOnly(n *node) error {
	for _, c := range n.children {
		if c.kind == textNode && strings.Trim(c.data, " \t\r\n") != "" {
			return newConflict(condSchema, "text is not allowed in <%s>", n.qname())
		}
	}
	return nil
}

// checkTextOnly refuses element children of a simple-content element.
func checkTextOnly(n *node) error {
	if len(n.elements()) > 0 {
		return newConflict(condSchema, "<%s> may only contain text", n.qname())
	}
	return nil
}

// positional returns a node selector for n made of name[N] steps,
// unprefixed for names in defaultNS, for uniqueness-failure fields.
func positional(n *node, defaultNS string) string {
	var steps []string
	for e := n; e != nil && e.kind == elementNode; e = e.parent {
		name := e.qname()
		if e.space == defaultNS {
			name = e.local
		}
		if p := e.parent; p != nil {
			k := 0
			for _, s := range p.elements() {
				if s.local == e.local && s.space == e.space {
					k++
				}
				if s == e {
					break
				}
			}
			name += "[" + strconv.Itoa(k) + "]"
		}
		steps = append(steps, name)
	}
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	return strings.Join(steps, "/")
}

// unique checks that among the children of parent named space:local, the
// attribute attrName has distinct values.
func unique(parent *node, space, local, attrName, defaultNS string) error {
	seen := map[string]bool{}
	for _, c := range parent.elements() {
		if !c.is(space, local) {
			continue
		}
		v, ok := c.attr("", attrName)
		if !ok {
			continue
		}
		if seen[v] {
			return &conflict{
				cond:   condUniqueness,
				phrase: "duplicate " + local + " " + attrName + " " + v,
				field:  positional(parent, defaultNS) + "/" + local + "/@" + attrName,
			}
		}
		seen[v] = true
	}
	return nil
}
