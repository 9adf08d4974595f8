package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the configuration file read (it may be a pipe).
const maxFileSize = 4 << 20

// Load builds the config: defaults, then the YAML file named by --config /
// PARLEY_CONFIG, then env, then flags.
//
// args excludes the program name; env is like os.Environ() (the first entry
// for a name wins, and an empty value counts as unset). Load returns
// flag.ErrHelp (wrapped) for -h/--help after printing usage to usageOut
// (os.Stderr when nil); nothing is printed for other errors, which name the
// offending key where there is one (see [KeyError]). The returned Config is
// normalised and has passed [Config.Validate].
func Load(args []string, env []string, usageOut io.Writer) (Config, error) {
	if usageOut == nil {
		usageOut = os.Stderr
	}
	cfg := Default()
	rv := reflect.ValueOf(&cfg).Elem()

	// Flags are parsed first, to find --config, and applied last.
	var flagged []flagSetting
	fs := flag.NewFlagSet("parleyd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for i := range fields {
		f := &fields[i]
		fv := flagValue{f: f, rec: &flagged}
		if f.kind == kindBool {
			fs.Var(boolFlagValue{fv}, f.key, f.help)
		} else {
			fs.Var(fv, f.key, f.help)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			WriteUsage(usageOut)
			return Config{}, fmt.Errorf("config: %w", err)
		}
		return Config{}, fmt.Errorf("config: %v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q (flags take the form --key=value; see --help)", fs.Arg(0))
	}

	envVals := parseEnv(env)
	cf := fieldByKey["config"]
	path := envVals[cf.env]
	for _, s := range flagged {
		if s.f == cf {
			path = s.val
		}
	}
	if path != "" {
		if err := applyFile(rv, path); err != nil {
			return Config{}, err
		}
	}

	for i := range fields {
		f := &fields[i]
		s, ok := envVals[f.env]
		if !ok {
			continue
		}
		if err := f.setString(rv.Field(f.index), s, false); err != nil {
			return Config{}, &KeyError{Key: f.key, Err: fmt.Errorf("%w (from environment %s)", err, f.env)}
		}
	}

	replaced := map[*field]bool{}
	for _, s := range flagged {
		if err := s.f.setString(rv.Field(s.f.index), s.val, replaced[s.f]); err != nil {
			return Config{}, &KeyError{Key: s.f.key, Err: fmt.Errorf("%w (from flag --%s)", err, s.f.key)}
		}
		replaced[s.f] = true
	}

	cfg.normalize()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// normalize puts case-insensitive values into their canonical form.
func (c *Config) normalize() {
	c.Domains = canonicalSet(c.Domains, strings.ToLower)
	c.DigestAlgorithms = canonicalSet(c.DigestAlgorithms, strings.ToUpper)
	c.TrustedPeers = canonicalSet(c.TrustedPeers, strings.ToLower)
	c.EdgeInward = canonicalSet(c.EdgeInward, strings.TrimSpace)
	c.Role = strings.ToLower(c.Role)
	c.LogFormat = strings.ToLower(c.LogFormat)
	c.LogLevel = strings.ToLower(c.LogLevel)
	c.RaftStore = strings.ToLower(c.RaftStore)
}

// canonicalSet maps each value to its canonical form and drops repeats,
// keeping the first occurrence's position.
func canonicalSet(list []string, canon func(string) string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v = canon(v); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// parseEnv returns the non-empty PARLEY_* variables of env; the first
// occurrence of a name wins, as with os.Getenv.
func parseEnv(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) || v == "" {
			continue
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

type flagSetting struct {
	f   *field
	val string
}

// flagValue records raw flag values in command-line order; they are parsed
// after the lower layers have been applied.
type flagValue struct {
	f   *field
	rec *[]flagSetting
}

func (v flagValue) String() string { return "" }
func (v flagValue) Set(s string) error {
	*v.rec = append(*v.rec, flagSetting{v.f, s})
	return nil
}

type boolFlagValue struct{ flagValue }

func (boolFlagValue) IsBoolFlag() bool { return true }

// applyFile applies the YAML file at path on top of the values in rv.
func applyFile(rv reflect.Value, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("config: reading %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("config: %s: larger than %d bytes", path, maxFileSize)
	}
	return applyYAML(rv, path, data)
}

func applyYAML(rv reflect.Value, path string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil // empty file
		}
		return fmt.Errorf("config: %s: %v", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return fmt.Errorf("config: %s: %v", path, err)
		}
		return fmt.Errorf("config: %s: line %d: only one YAML document is allowed", path, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil // only comments, or an explicit null
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config: %s: line %d: the top level must be a mapping of key: value", path, root.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := resolveAlias(root.Content[i]), root.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s: line %d: keys must be plain strings", path, kn.Line)
		}
		key := kn.Value
		where := fmt.Sprintf("%s line %d", path, kn.Line)
		f, ok := fieldByKey[key]
		if !ok {
			msg := "unknown key in " + where
			if s := suggest(key); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &KeyError{Key: key, Err: errors.New(msg)}
		}
		if f.key == "config" {
			return &KeyError{Key: key, Err: fmt.Errorf("can be set only by flag or environment, not in the file (%s)", where)}
		}
		if prev, dup := seen[key]; dup {
			return &KeyError{Key: key, Err: fmt.Errorf("given twice in %s (lines %d and %d)", path, prev, kn.Line)}
		}
		seen[key] = kn.Line
		if err := f.setYAML(rv.Field(f.index), vn); err != nil {
			return &KeyError{Key: key, Err: fmt.Errorf("%w (from %s)", err, where)}
		}
	}
	return nil
}

// resolveAlias follows YAML aliases (*name) to the anchored node.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

// setYAML decodes the YAML value n into v.
func (f *field) setYAML(v reflect.Value, n *yaml.Node) error {
	n = resolveAlias(n)
	if f.kind == kindStrings {
		switch n.Kind {
		case yaml.SequenceNode:
			items := make([]string, 0, len(n.Content))
			for _, it := range n.Content {
				it = resolveAlias(it)
				s, err := yamlString(it)
				if err != nil {
					return fmt.Errorf("list item on line %d: %w", it.Line, err)
				}
				if s == "" {
					return fmt.Errorf("empty list item on line %d", it.Line)
				}
				items = append(items, s)
			}
			v.Set(reflect.ValueOf(items))
			return nil
		case yaml.ScalarNode:
			s, err := yamlString(n)
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf(splitList(s)))
			return nil
		}
		return fmt.Errorf("expected a list or a comma-separated string, got %s", nodeKind(n))
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a %s, got %s", f.kind, nodeKind(n))
	}
	tag := n.ShortTag()
	switch f.kind {
	case kindString:
		s, err := yamlString(n)
		if err != nil {
			return err
		}
		v.SetString(s)
	case kindBool:
		switch tag {
		case "!!bool", "!!str":
			b, err := parseBool(n.Value)
			if err != nil {
				return err
			}
			v.SetBool(b)
		default:
			return fmt.Errorf("invalid boolean %q (want true or false)", n.Value)
		}
	case kindInt:
		var i int
		switch tag {
		case "!!int":
			if err := n.Decode(&i); err != nil {
				return fmt.Errorf("invalid integer %q", n.Value)
			}
		case "!!str":
			var err error
			if i, err = parseInt(n.Value); err != nil {
				return err
			}
		default:
			return fmt.Errorf("invalid integer %q", n.Value)
		}
		v.SetInt(int64(i))
	case kindDuration:
		switch tag {
		case "!!int":
			var secs int64
			if err := n.Decode(&secs); err != nil || secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
				return fmt.Errorf("invalid duration %q (integer seconds out of range)", n.Value)
			}
			v.SetInt(secs * int64(time.Second))
		case "!!str":
			d, err := parseDuration(n.Value)
			if err != nil {
				return err
			}
			v.SetInt(int64(d))
		default:
			return fmt.Errorf("invalid duration %q (want e.g. \"90s\", \"5m\" or whole seconds)", n.Value)
		}
	}
	return nil
}

// yamlString returns the text of the scalar n: a null is "", !!binary is
// decoded, anything else (numbers, booleans, ...) is taken as written.
func yamlString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("expected a string, got %s", nodeKind(n))
	}
	switch n.ShortTag() {
	case "!!null":
		return "", nil
	case "!!binary":
		var s string
		if err := n.Decode(&s); err != nil {
			return "", fmt.Errorf("invalid !!binary value: %v", err)
		}
		return s, nil
	}
	return n.Value, nil
}

// suggest returns the known key closest to an unknown one, or "".
func suggest(key string) string {
	best, bestD := "", 3 // only suggest close matches
	for i := range fields {
		if d := editDistance(key, fields[i].key); d < bestD {
			best, bestD = fields[i].key, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// WriteUsage writes the `parleyd --help` text, generated from [Keys], to w.
func WriteUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: parleyd [flags]\n\n")
	b.WriteString("Every flag --key can also be given as the environment variable PARLEY_KEY\n")
	b.WriteString("(upper case, dashes as underscores) or as \"key:\" in the --config YAML file.\n")
	b.WriteString("Precedence: flag > environment > file > default. Lists are comma-separated.\n\n")
	for _, k := range Keys() {
		f := fieldByKey[k.Key]
		typ := " " + f.kind.String()
		if f.kind == kindBool {
			typ = ""
		}
		fmt.Fprintf(&b, "  --%s%s\n", k.Key, typ)
		for _, line := range wrap(k.Help, 70) {
			fmt.Fprintf(&b, "        %s\n", line)
		}
		if k.Default != "" {
			fmt.Fprintf(&b, "        (default %q; env %s)\n", k.Default, k.Env)
		} else {
			fmt.Fprintf(&b, "        (env %s)\n", k.Env)
		}
	}
	io.WriteString(w, b.String())
}
