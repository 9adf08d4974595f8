package presence

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/xcap"
)

// XcapStore keeps XCAP documents in the replicated state. It parses
// resource-lists and pres-rules documents on the way in, so the contact
// list, its reverse index and the authorization rules follow every PUT.
type XcapStore struct {
	st *state.State
	w  state.Writer
}

var _ xcap.Store = (*XcapStore)(nil)

// NewXcapStore returns the store for the XCAP server.
func NewXcapStore(st *state.State, w state.Writer) *XcapStore { return &XcapStore{st: st, w: w} }

// Get returns a document and its ETag.
func (x *XcapStore) Get(_ context.Context, auid, xui, doc string) ([]byte, string, error) {
	d, ok := x.st.Xcap(auid, xui, doc)
	if !ok {
		return nil, "", xcap.ErrNotFound
	}
	return d.Body, d.ETag, nil
}

// Put stores a document, checking the ETag preconditions in the log.
func (x *XcapStore) Put(ctx context.Context, auid, xui, doc string, body []byte, ifMatch, ifNoneMatch string) (string, bool, error) {
	_, existed := x.st.Xcap(auid, xui, doc)
	cmd := state.XcapPut{AUID: auid, XUI: xui, Doc: doc, Body: body, ETag: newTag(), IfMatch: ifMatch, IfNoneMatch: ifNoneMatch}
	if err := derive(&cmd); err != nil {
		return "", false, fmt.Errorf("%w: %w", xcap.ErrInvalidDocument, err)
	}
	if _, err := x.w.Write(ctx, state.CmdXcapPut, cmd); err != nil {
		return "", false, mapStateErr(err)
	}
	return cmd.ETag, !existed, nil
}

// Delete removes a document.
func (x *XcapStore) Delete(ctx context.Context, auid, xui, doc, ifMatch string) error {
	_, err := x.w.Write(ctx, state.CmdXcapDelete, state.XcapDelete{AUID: auid, XUI: xui, Doc: doc, IfMatch: ifMatch})
	return mapStateErr(err)
}

// derive fills in what the presence agent reads from a document.
func derive(cmd *state.XcapPut) error {
	switch cmd.AUID {
	case state.AUIDResourceLists:
		entries, err := xcap.ParseResourceLists(cmd.Body)
		if err != nil {
			return err
		}
		cmd.Contacts = contactsOf(entries)
	case state.AUIDPresRules:
		r, err := xcap.ParsePresRules(cmd.Body)
		if err != nil {
			return err
		}
		cmd.Rules = &state.PresRules{Allow: r.Allow, Block: r.Block, Polite: r.Polite}
	}
	return nil
}

func contactsOf(entries []xcap.Entry) []state.Contact {
	out := make([]state.Contact, 0, len(entries))
	for _, e := range entries {
		out = append(out, state.Contact{URI: e.URI, Name: e.DisplayName, Groups: e.Groups, Target: aorOfURI(e.URI)})
	}
	return out
}

func mapStateErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, state.ErrPrecondition):
		return fmt.Errorf("%w: %w", xcap.ErrPrecondition, err)
	case errors.Is(err, state.ErrNotFound):
		return fmt.Errorf("%w: %w", xcap.ErrNotFound, err)
	}
	return err
}
