package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExampleYAML returns a commented YAML configuration file listing every key
// with its default (testdata/parleyd.example.yaml is a copy of it).
func ExampleYAML() []byte {
	var b bytes.Buffer
	b.WriteString("# parleyd configuration: every key with its default value.\n")
	b.WriteString("#\n")
	b.WriteString("# Generated from config.Keys(); regenerate with: go test ./core/config -update\n")
	b.WriteString("# Every key is also a command-line flag (--key) and an environment variable\n")
	b.WriteString("# (PARLEY_KEY, upper case, dashes as underscores). Precedence:\n")
	b.WriteString("# flag > environment > this file > default.\n")
	b.Write(encodeYAML(Default(), true))
	return b.Bytes()
}

// encodeYAML renders c as a YAML file that Load reads back to c (except
// ConfigFile, which cannot be set in a file). With comments, each key is
// preceded by its help text, flag and environment variable, and the config
// key is shown commented out.
func encodeYAML(c Config, comments bool) []byte {
	var b bytes.Buffer
	rv := reflect.ValueOf(c)
	for _, k := range Keys() {
		f := fieldByKey[k.Key]
		if comments {
			b.WriteString("\n")
			for _, line := range wrap(k.Help, 76) {
				b.WriteString("# " + line + "\n")
			}
			fmt.Fprintf(&b, "# flag --%s, env %s\n", k.Key, k.Env)
		}
		if f.key == "config" {
			if comments {
				b.WriteString("# (not settable in this file)\n")
			}
			continue
		}
		v := rv.Field(f.index)
		var val any
		switch f.kind {
		case kindDuration:
			val = f.format(v)
		case kindStrings:
			val = v.Interface().([]string)
		default:
			val = v.Interface()
		}
		var out bytes.Buffer
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		node := &yaml.Node{Kind: yaml.MappingNode}
		var kn, vn yaml.Node
		kn.SetString(f.key)
		if err := vn.Encode(val); err != nil {
			panic(err) // strings, bools, ints and string lists always encode
		}
		node.Content = []*yaml.Node{&kn, &vn}
		if err := enc.Encode(node); err != nil {
			panic(err)
		}
		enc.Close()
		b.Write(out.Bytes())
	}
	return b.Bytes()
}

// wrap splits text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
