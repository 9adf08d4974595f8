//go:build linux

package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// chainRules never fires: it costs the evaluation of one expression per
// MESSAGE.
const chainRules = `- name: bench
  when: Method == "MESSAGE" && Body contains "never-in-a-bench-body"
  actions:
    - kind: respond
      code: 403
`

// chain measures MESSAGE throughput, as (c), through the application
// chain: (e) with one rules app, (f) with one out-of-process plugin (the
// contentfilter example, whose word list the bench bodies never match),
// each before the router; (c) is the same with the default chain.
func (b *bench) chain(dir string, s *server, r map[string]result) {
	if err := s.ctl("app", "add", "bench-rules", "--kind", "rules", "--position", "50", "--rules-file", writeRules(dir)); err != nil {
		r["message-rules"] = result{Err: err.Error()}
	} else {
		r["message-rules"] = b.logRun(s, "message-rules", func() result { return b.message(filepath.Join(dir, "message-rules"), s) })
		_ = s.ctl("app", "remove", "bench-rules")
	}
	if err := s.ctl("app", "add", "bench-plugin", "--kind", "plugin", "--command", "contentfilter", "--position", "50",
		"--setting", "words=never-in-a-bench-body"); err != nil {
		r["message-plugin"] = result{Err: err.Error()}
		return
	}
	// The plugin starts in a few ms; a run against a plugin that is not
	// up would measure the chain skipping it.
	for i := 0; i < 50 && !strings.Contains(readFile(s.log), `"plugin running"`); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(readFile(s.log), `"plugin running"`) {
		r["message-plugin"] = result{Err: "the plugin did not start; see " + s.log}
		return
	}
	r["message-plugin"] = b.logRun(s, "message-plugin", func() result { return b.message(filepath.Join(dir, "message-plugin"), s) })
}

// chainOnly runs (c), (e) and (f) on a fresh parleyd (sipbench -only chain).
func (b *bench) chainOnly(dir string) map[string]result {
	r := map[string]result{}
	s, err := b.freshParleyd(filepath.Join(dir, "chain"), b.binDir, "parleyd")
	if err != nil {
		log.Printf("parleyd: %v", err)
		return failed(err)
	}
	defer s.stop()
	r["message"] = b.logRun(s, "message", func() result { return b.message(filepath.Join(dir, "chain", "message"), s) })
	b.chain(filepath.Join(dir, "chain"), s, r)
	return r
}

func writeRules(dir string) string {
	path := filepath.Join(dir, "bench-rules.yaml")
	if err := os.WriteFile(path, []byte(chainRules), 0o644); err != nil {
		log.Printf("rules file: %v", err)
	}
	return path
}

// ctl runs parleyctl against the server.
func (s *server) ctl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"--admin", fmt.Sprintf("http://127.0.0.1:%d", s.adminPort), "--token", adminToken}, args...)
	if out, err := exec.CommandContext(ctx, filepath.Join(s.bin, "parleyctl"), full...).CombinedOutput(); err != nil {
		return fmt.Errorf("parleyctl %v: %w: %s", args, err, out)
	}
	return nil
}
