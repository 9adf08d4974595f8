//go:build linux

package benchnode

import (
	"os"
	"os/exec"
	"strings"
)

// AppendSection adds md (starting with the heading line "\n"+heading) to
// the file, replacing an earlier section with that heading (up to the
// next "## " heading).
func AppendSection(path, heading, md string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	if i := strings.Index(s, "\n"+heading+"\n"); i >= 0 {
		rest := s[i+1+len(heading):]
		end := ""
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = rest[j:]
		}
		s = s[:i] + end
	}
	s = strings.TrimRight(s, "\n") + "\n" + md
	return os.WriteFile(path, []byte(s), 0o644)
}

// GitCommit is the short commit of the working tree ("unknown" outside git).
func GitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
