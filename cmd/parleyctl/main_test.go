package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
)

// seed gives the server alice (with two bindings) and bob@other.org.
func seed(t *testing.T, s *testServer) {
	t.Helper()
	s.mustAdd(t, "alice", "pw", "Alice Liddell")
	s.mustAdd(t, "bob@other.org", "pw", "")
	now := testNow.Unix()
	_, err := s.w.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: "alice@example.com", Upsert: []state.Binding{
		{Contact: "sip:alice@192.0.2.10:5060;transport=udp", CallID: "c1", CSeq: 1, Q: 1000, Expires: now + 3600,
			Transport: "UDP", Source: "192.0.2.10:5060", Home: "n1"},
		{Contact: "sip:alice@198.51.100.7:49152;transport=tls", CallID: "c2", CSeq: 5, Q: 500, Expires: now + 95,
			Transport: "TLS", Source: "198.51.100.7:49152", Home: "n2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	tokenFile := filepath.Join(dir, "admin-token")
	for name, body := range map[string]string{
		good:      "username,password,display\ncarol,c,Carol\nalice,new,Alice L.\n",
		bad:       "username,password\ncarol,c\nd d,x\ncarol,y\n",
		tokenFile: testToken + "\n",
	} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		args      string // split on spaces; "_" stands for an empty argument
		stdin     string
		env       []string
		code      int
		stdout    string // exact after stable(), unless empty
		stderrHas string
		stdoutHas string
	}{
		{name: "add", args: "user add carol --password pw --display Carol", stdout: "created carol@example.com\n"},
		{name: "add flags first", args: "user add --password pw carol@OTHER.org", stdout: "created carol@other.org\n"},
		{name: "add password from stdin", args: "user add carol", stdin: "pw\n", stdout: "created carol@example.com\n"},
		{name: "add global flag after command", args: "user add carol --password pw -o json", stdoutHas: `"aor": "carol@example.com"`},
		{name: "add name with slash", args: "user add a/b;c --password pw", stdout: "created a/b;c@example.com\n"},
		{name: "add existing", args: "user add alice --password pw", code: 1, stderrHas: "parleyctl: user alice@example.com already exists\n"},
		{name: "add bad name", args: "user add a:b --password pw", code: 1, stderrHas: "invalid username"},
		{name: "add empty password", args: "user add carol --password _", code: 1, stderrHas: "invalid password: empty"},
		{name: "add no password", args: "user add carol", code: 2, stderrHas: "no password"},
		{name: "add no name", args: "user add --password pw", code: 2, stderrHas: "missing argument"},
		{name: "add two names", args: "user add a b --password pw", code: 2, stderrHas: "too many arguments"},
		{name: "add unknown flag", args: "user add carol --pasword pw", code: 2, stderrHas: "flag provided but not defined: -pasword"},
		{name: "list", args: "user list", stdout: "" +
			"AOR                DISPLAY        ENABLED  CREATED\n" +
			"alice@example.com  Alice Liddell  yes      <time>\n" +
			"bob@other.org      -              yes      <time>\n"},
		{name: "list json", args: "-o json user list", stdoutHas: `"aor": "bob@other.org"`},
		{name: "show", args: "user show bob@other.org", stdoutHas: "bob@other.org  -        yes"},
		{name: "show unknown", args: "user show zed", code: 1, stderrHas: "parleyctl: user zed@example.com not found\n"},
		{name: "del", args: "user del alice", stdout: "deleted alice\n"},
		{name: "del json prints nothing", args: "user del alice -o json", stdout: "-"},
		{name: "del unknown", args: "user del zed", code: 1, stderrHas: "user zed@example.com not found"},
		{name: "passwd", args: "user passwd alice --password new", stdout: "password of alice changed\n"},
		{name: "passwd from stdin", args: "user passwd alice", stdin: "new\r\n", stdout: "password of alice changed\n"},
		{name: "add with home", args: "user add carol --password pw --home n2 -o json", stdoutHas: `"home": "n2"`},
		{name: "set home", args: "user set alice --home n3", stdout: "alice@example.com is assigned to n3\n"},
		{name: "clear home", args: "user set alice --home _", stdout: "alice@example.com follows the assignment rule\n"},
		{name: "set bad home", args: "user set alice --home n/3", code: 1, stderrHas: "invalid home"},
		{name: "set nothing", args: "user set alice", code: 2, stderrHas: "needs --home"},
		{name: "disable", args: "user disable alice", stdout: "disabled alice@example.com\n"},
		{name: "enable", args: "user enable bob@other.org", stdout: "enabled bob@other.org\n"},
		{name: "import", args: "user import " + good, stdout: "imported 2 users (1 created, 1 updated)\n"},
		{name: "import stdin", args: "user import -", stdin: "username,password\nzed,z\n", stdout: "imported 1 users (1 created, 0 updated)\n"},
		{name: "import bad lines", args: "user import " + bad, code: 1, stderrHas: "" +
			"parleyctl: invalid import: 2 bad line(s); nothing imported\n" +
			"  line 3: invalid username \"d d\": character ' ' at position 2 not allowed\n" +
			"  line 4: user carol@example.com already on line 2\n"},
		{name: "import missing file", args: "user import " + filepath.Join(dir, "nope.csv"), code: 1, stderrHas: "no such file"},
		{name: "bindings", args: "binding list", stdout: "" +
			"AOR                CONTACT                                     TRANSPORT  SOURCE              EXPIRES IN  Q    HOME\n" +
			"alice@example.com  sip:alice@192.0.2.10:5060;transport=udp     UDP        192.0.2.10:5060     1h0m0s      1    n1\n" +
			"alice@example.com  sip:alice@198.51.100.7:49152;transport=tls  TLS        198.51.100.7:49152  1m35s       0.5  n2\n"},
		{name: "bindings of bob", args: "binding list bob@other.org", stdout: "AOR  CONTACT  TRANSPORT  SOURCE  EXPIRES IN  Q  HOME\n"},
		{name: "bindings json", args: "binding list alice -o json", stdoutHas: `"expires_in": 95`},
		{name: "bindings bad user", args: "binding list x@nowhere.net", code: 1, stderrHas: "unknown domain"},
		{name: "cluster", args: "cluster status", stdout: "" +
			"NODE           n1\n" +
			"STATE          Leader\n" +
			"LEADER         n1 (10.0.0.1:8300)\n" +
			"TERM           3\n" +
			"LAST INDEX     42\n" +
			"COMMIT INDEX   42\n" +
			"APPLIED INDEX  42\n" +
			"LAST CONTACT   0\n" +
			"\n" +
			"MEMBER  ADDRESS        ROLE      TERM  LAST INDEX  LAG  HEALTH             LINK                             ADMIN\n" +
			"n1      10.0.0.1:8300  leader    3     42          0    ok                 sip:10.0.0.1:8301;transport=tcp  http://10.0.0.1:8060\n" +
			"n2      10.0.0.2:8300  follower  3     40          2    ok                 sip:10.0.0.2:8301;transport=tcp  http://10.0.0.2:8060\n" +
			"n3      10.0.0.3:8300  nonvoter  3     0           0    unreachable (12s)  none                             http://10.0.0.3:8060\n" +
			"\n" +
			"warning: n3 publishes no cluster SIP link: requests for bindings homed there get 480 through other members (cluster-sip is off, or its member entry is not published yet)\n"},
		{name: "cluster json shows links", args: "cluster status -o json", stdoutHas: `"sip_addr": "sip:10.0.0.2:8301;transport=tcp"`},
		{name: "cluster join", args: "cluster join n4 10.0.0.4:7060", stdout: "n4 (10.0.0.4:7060) added; it becomes a voter once caught up\n"},
		{name: "cluster join nonvoter", args: "cluster join --nonvoter n4 10.0.0.4:7060", stdout: "n4 (10.0.0.4:7060) added as a non-voter\n"},
		{name: "cluster join bad id", args: "cluster join n/4 10.0.0.4:7060", code: 1, stderrHas: "must be 1-64 characters"},
		{name: "cluster join no quorum", args: "cluster join n1 10.0.0.1:7060", code: 1, stderrHas: "no quorum"},
		{name: "cluster join missing addr", args: "cluster join n4", code: 2, stderrHas: "missing argument"},
		{name: "cluster remove", args: "cluster remove n3", stdout: "n3 removed from the cluster\n"},
		{name: "cluster remove unknown", args: "cluster remove n9", code: 1, stderrHas: "no cluster member n9"},
		{name: "cluster transfer", args: "cluster transfer-leader n2", stdout: "leadership transferred; leader now n1\n"},
		{name: "cluster transfer any", args: "cluster transfer-leader -o json", stdoutHas: `"leader": "n1"`},
		{name: "cluster transfer unknown", args: "cluster transfer-leader n7", code: 1, stderrHas: "no cluster member n7"},
		{name: "wrong token", args: "user list", env: []string{"PARLEY_TOKEN=nope"}, code: 1, stderrHas: "missing or wrong bearer token (give --token"},
		{name: "token flag beats env", args: "--token " + testToken + " user list", env: []string{"PARLEY_TOKEN=nope"}, stdoutHas: "alice@example.com"},
		{name: "token from file", args: "user list", env: []string{"PARLEY_TOKEN=", "PARLEY_TOKEN_FILE=" + tokenFile}, stdoutHas: "alice@example.com"},
		{name: "bad output", args: "-o yaml user list", code: 2, stderrHas: `-o "yaml": want table or json`},
		{name: "unreachable", args: "--admin http://127.0.0.1:1 user list", code: 1, stderrHas: "cannot reach the admin API at http://127.0.0.1:1"},
		{name: "bad admin url", args: "--admin ftp://x user list", code: 2, stderrHas: "--admin"},
		{name: "no command", args: "", code: 2, stderrHas: "no command given"},
		{name: "unknown command", args: "frob", code: 2, stderrHas: `unknown command "frob"`},
		{name: "group without verb", args: "user", code: 2, stderrHas: "missing subcommand (add, set, import, list, show, del, passwd, enable, disable)"},
		{name: "help", args: "help", stdoutHas: "binding list [USER]"},
		{name: "dash h", args: "-h", stdoutHas: "cluster status"},
		{name: "app commands registered", args: "help", stdoutHas: "app add NAME --kind builtin|rules|plugin"},
		{name: "command help", args: "user passwd -h", stdoutHas: "Usage: parleyctl user passwd NAME [--password PW]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			seed(t, s)
			var args []string
			if tt.args != "" {
				for _, a := range strings.Split(tt.args, " ") {
					if a == "_" {
						a = ""
					}
					args = append(args, a)
				}
			}
			r := s.run(tt.stdin, args, tt.env...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			switch got := stable(r.stdout); {
			case tt.stdout == "-" && got != "":
				t.Fatalf("stdout %q, want nothing", got)
			case tt.stdout != "" && tt.stdout != "-" && got != tt.stdout:
				t.Fatalf("stdout:\n%s\nwant:\n%s", got, tt.stdout)
			case !strings.Contains(got, tt.stdoutHas):
				t.Fatalf("stdout lacks %q:\n%s", tt.stdoutHas, got)
			}
			if !strings.Contains(r.stderr, tt.stderrHas) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderrHas, r.stderr)
			}
		})
	}
}

func TestEffects(t *testing.T) {
	s := newServer(t)
	seed(t, s)
	before, _ := s.dir.Get("alice")
	if r := s.run("", strings.Fields("user passwd alice --password new")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if after, _ := s.dir.Get("alice"); after.HA1MD5 == before.HA1MD5 || s.st.BindingCount() != 0 {
		t.Fatalf("password not changed or bindings kept: %+v, %d bindings", after, s.st.BindingCount())
	}
	if r := s.run("", []string{"user", "add", "a/b;c", "--password", "pw"}); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := s.run("", []string{"user", "show", "a/b;c"}); r.code != 0 || !strings.Contains(r.stdout, "a/b;c@example.com") {
		t.Fatalf("%+v", r)
	}
}

func TestUnavailable(t *testing.T) {
	s := newServer(t)
	s.w.Fail(raftnode.ErrNotLeader)
	r := s.run("", strings.Fields("user add carol --password pw"))
	if r.code != 1 || !strings.Contains(r.stderr, "cluster unavailable for writes") || !strings.Contains(r.stderr, "point --admin at the leader") {
		t.Fatalf("%+v", r)
	}
}

func TestListPages(t *testing.T) {
	s := newServer(t)
	var csv strings.Builder
	csv.WriteString("username,password\n")
	for i := range 2500 {
		csv.WriteString("u" + strings.Repeat("0", 5-len(itoa(i))) + itoa(i) + ",pw\n")
	}
	if r := s.run(csv.String(), strings.Fields("user import -")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := s.run("", strings.Fields("user list"))
	if lines := strings.Count(r.stdout, "\n"); r.code != 0 || lines != 2501 {
		t.Fatalf("exit %d, %d lines", r.code, lines)
	}
}
