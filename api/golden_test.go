package api

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenRoundTrip decodes each golden body (written from the server,
// see core/admin's TestGoldenJSON) into its type, refusing unknown
// fields, and encodes it back as the server does: the bytes must be the
// same, so these types carry every field with its name, order and
// omission rule.
func TestGoldenRoundTrip(t *testing.T) {
	types := map[string]func() any{
		"user_create":         func() any { return new(User) },
		"user_get":            func() any { return new(User) },
		"user_list":           func() any { return new([]User) },
		"user_enabled":        func() any { return new(User) },
		"user_import":         func() any { return new(ImportResult) },
		"error_import_lines":  func() any { return new(Error) },
		"error_not_found":     func() any { return new(Error) },
		"bindings":            func() any { return new([]Binding) },
		"app_put":             func() any { return new(App) },
		"app_patch":           func() any { return new(App) },
		"app_list":            func() any { return new([]AppStatus) },
		"route_put":           func() any { return new(Route) },
		"route_list":          func() any { return new([]Route) },
		"partner_put":         func() any { return new(Partner) },
		"partner_list":        func() any { return new([]Partner) },
		"presence":            func() any { return new(Presence) },
		"contacts":            func() any { return new([]Contact) },
		"rules":               func() any { return new(PresRules) },
		"calendar":            func() any { return new([]CalendarEntry) },
		"archive":             func() any { return new(ArchiveSearch) },
		"cluster":             func() any { return new(ClusterStatus) },
		"member_add":          func() any { return new(MemberAdded) },
		"leader_transfer":     func() any { return new(LeaderReply) },
		"pstn_put":            func() any { return new(PSTNConfig) },
		"pstn_get":            func() any { return new(PSTNConfig) },
		"pstn_list":           func() any { return new([]PSTNConfig) },
		"pstn_test":           func() any { return new(PSTNTestResult) },
		"error_pstn_invalid":  func() any { return new(PSTNError) },
		"error_pstn_conflict": func() any { return new(PSTNError) },
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			mk, ok := types[name]
			if !ok {
				t.Fatalf("no type for %s: add it to the table", file)
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v := mk()
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("round trip changed %s:\ngot:\n%s\nwant:\n%s", file, got.Bytes(), want)
			}
		})
	}
}
