package state

import (
	"fmt"
	"strings"
)

// XCAP document command types.
const (
	CmdXcapPut    CommandType = 34
	CmdXcapDelete CommandType = 35
)

func init() {
	registerCommand(CmdXcapPut, "xcap.put", applyXcapPut, mustApply)
	registerCommand(CmdXcapDelete, "xcap.delete", applyXcapDelete, mustApply)
}

// Application usages whose documents the presence agent reads.
const (
	AUIDResourceLists = "resource-lists"
	AUIDPresRules     = "pres-rules"
)

// Contact is one entry of a user's contact list.
type Contact struct {
	URI     string   `json:"uri"`
	Name    string   `json:"name,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Target  string   `json:"target"` // the entry's AOR (user@domain), "" if not a SIP URI
	Display string   `json:"display,omitempty"`
}

// PresRules is a user's presence authorization: watchers (sip:user@domain
// or *@domain) allowed, blocked (they see offline) or politely blocked.
type PresRules struct {
	Allow  []string `json:"allow,omitempty"`
	Block  []string `json:"block,omitempty"`
	Polite []string `json:"polite,omitempty"`
}

// XcapDoc is one stored XCAP document.
type XcapDoc struct {
	Body []byte `json:"body"`
	ETag string `json:"etag"`
}

// XcapPut stores a document. The writer parses it and sends the parsed
// contacts (resource-lists) or rules (pres-rules) along, so apply stays
// free of XML. IfMatch/IfNoneMatch are checked at apply time.
type XcapPut struct {
	AUID        string     `json:"auid"`
	XUI         string     `json:"xui"` // sip:user@domain
	Doc         string     `json:"doc"`
	Body        []byte     `json:"body"`
	ETag        string     `json:"etag"`
	IfMatch     string     `json:"if_match,omitempty"`
	IfNoneMatch string     `json:"if_none_match,omitempty"`
	Contacts    []Contact  `json:"contacts,omitempty"`
	Rules       *PresRules `json:"rules,omitempty"`
}

// XcapDelete removes a document.
type XcapDelete struct {
	AUID, XUI, Doc string
	IfMatch        string `json:"if_match,omitempty"`
}

// ErrPrecondition is an XCAP ETag precondition that failed.
var ErrPrecondition = fmt.Errorf("state: precondition failed")

// XcapKey names a document.
func XcapKey(auid, xui, doc string) string { return auid + "\x00" + xui + "\x00" + doc }

// OwnerOf maps an XUI (sip:alice@localhost) to its AOR.
func OwnerOf(xui string) string {
	xui = strings.TrimPrefix(strings.TrimPrefix(xui, "sips:"), "sip:")
	return NormalizeAOR(xui)
}

func checkPrecondition(cur *XcapDoc, ifMatch, ifNoneMatch string) error {
	switch {
	case ifMatch == "*" && cur == nil, ifMatch != "" && ifMatch != "*" && (cur == nil || cur.ETag != ifMatch):
		return ErrPrecondition
	case ifNoneMatch == "*" && cur != nil, ifNoneMatch != "" && ifNoneMatch != "*" && cur != nil && cur.ETag == ifNoneMatch:
		return ErrPrecondition
	}
	return nil
}

func applyXcapPut(s *State, c *Command) any {
	body, err := decodeBody[XcapPut](c)
	if err != nil {
		return err
	}
	key := XcapKey(body.AUID, body.XUI, body.Doc)
	if err := checkPrecondition(s.xcap[key], body.IfMatch, body.IfNoneMatch); err != nil {
		return err
	}
	s.xcap[key] = &XcapDoc{Body: body.Body, ETag: body.ETag}
	s.indexDoc(body.AUID, OwnerOf(body.XUI), body.Contacts, body.Rules)
	return nil
}

func applyXcapDelete(s *State, c *Command) any {
	body, err := decodeBody[XcapDelete](c)
	if err != nil {
		return err
	}
	key := XcapKey(body.AUID, body.XUI, body.Doc)
	cur := s.xcap[key]
	if cur == nil {
		return fmt.Errorf("%w: document", ErrNotFound)
	}
	if err := checkPrecondition(cur, body.IfMatch, ""); err != nil {
		return err
	}
	delete(s.xcap, key)
	s.indexDoc(body.AUID, OwnerOf(body.XUI), nil, nil)
	return nil
}

// indexDoc refreshes the contact list (and its reverse index) or the
// rules derived from a user's document.
func (s *State) indexDoc(auid, owner string, contacts []Contact, rules *PresRules) {
	switch auid {
	case AUIDResourceLists:
		for _, old := range s.contacts[owner] {
			if m := s.contactOf[old.Target]; m != nil {
				delete(m, owner)
				if len(m) == 0 {
					delete(s.contactOf, old.Target)
				}
			}
		}
		if len(contacts) == 0 {
			delete(s.contacts, owner)
		} else {
			s.contacts[owner] = append([]Contact(nil), contacts...)
		}
		for _, ct := range contacts {
			if ct.Target == "" {
				continue
			}
			if s.contactOf[ct.Target] == nil {
				s.contactOf[ct.Target] = make(map[string]bool)
			}
			s.contactOf[ct.Target][owner] = true
		}
		s.changed(ContactsChanged, owner)
	case AUIDPresRules:
		if rules == nil {
			delete(s.rules, owner)
		} else {
			s.rules[owner] = *rules
		}
		s.changed(RulesChanged, owner)
	}
}

// Xcap returns a stored document.
func (s *State) Xcap(auid, xui, doc string) (XcapDoc, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.xcap[XcapKey(auid, xui, doc)]
	if !ok {
		return XcapDoc{}, false
	}
	return *d, true
}

// Contacts returns a user's contact list.
func (s *State) Contacts(owner string) []Contact {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Contact(nil), s.contacts[owner]...)
}

// ContactOf returns the users who have target in their contact list.
func (s *State) ContactOf(target string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.contactOf[target]))
	for o := range s.contactOf[target] {
		out = append(out, o)
	}
	return out
}

// Rules returns a user's presence authorization rules.
func (s *State) Rules(owner string) (PresRules, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rules[owner]
	return r, ok
}
