//go:build linux

package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is the sum over the sipp processes of one load run.
type result struct {
	OK, Failed, Retrans int           // totals at the end, drain included
	WindowOK            int           // successful calls within the window
	Window              time.Duration // longest process time up to the stop signal
	MeanCall            time.Duration // call-weighted mean of Response Time 1
	Err                 string
}

// Rate is successful calls per second within the measuring window (from
// the start of the sipps to the stop signal, or to their end if earlier).
func (r result) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.WindowOK) / r.Window.Seconds()
}

// load is one sipp load run: procs parallel UACs of scenario, process i
// using users [first+i*per, first+(i+1)*per) once each (SEQUENTIAL, -m per)
// and service[i] as -s when set.
type load struct {
	scenario string
	procs    int
	first    int
	per      int
	service  []string
}

type sippProc struct {
	cmd   *exec.Cmd
	stats string
	done  chan struct{}
	err   error
}

func (b *bench) startSipp(dir, name, target, scenario string, users []string, extra ...string) (*sippProc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	inf := filepath.Join(dir, name+".csv")
	body := "SEQUENTIAL\n" + strings.Join(users, "\n") + "\n"
	if err := os.WriteFile(inf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	p := &sippProc{stats: filepath.Join(dir, name+"-stats.csv"), done: make(chan struct{})}
	args := append([]string{target, "-sf", filepath.Join(b.sippDir, scenario), "-inf", inf,
		"-i", "127.0.0.1", "-bind_local", "-nostdin", "-default_behaviors", "all,-bye",
		"-trace_stat", "-stf", p.stats, "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(dir, name+"-errors.log"), "-max_log_size", "1000000",
		"-buff_size", "4194304",
		"-watchdog_minor_maxtriggers", "1000000", "-watchdog_major_maxtriggers", "1000000",
	}, extra...)
	out, err := os.Create(filepath.Join(dir, name+"-screen.log"))
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command("sipp", args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// finish asks sipp for a smooth exit (SIGUSR1: no new calls), then kills
// it after grace.
func (p *sippProc) finish(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func userLines(first, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("user%d;%s;localhost;", first+i, password)
	}
	return lines
}

// run drives one load for b.duration and sums the processes' final stats.
func (b *bench) run(dir string, s *server, l load) result {
	var procs []*sippProc
	var res result
	for i := 0; i < l.procs; i++ {
		extra := []string{"-r", strconv.Itoa(b.rate), "-l", strconv.Itoa(b.limit), "-m", strconv.Itoa(l.per),
			"-t", b.transport, "-max_socket", strconv.Itoa(10 * b.limit)}
		if i < len(l.service) {
			extra = append(extra, "-s", l.service[i])
		}
		p, err := b.startSipp(dir, fmt.Sprintf("uac%d", i), s.addr(), l.scenario,
			userLines(l.first+i*l.per, l.per), extra...)
		if err != nil {
			res.Err = err.Error()
			break
		}
		procs = append(procs, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.duration)
	defer cancel()
	for _, p := range procs {
		select {
		case <-p.done:
		case <-ctx.Done():
		}
	}
	var weighted float64
	stopAt := time.Now()
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGUSR1)
	}
	for i, p := range procs {
		p.finish(10 * time.Second)
		st, err := readStats(p.stats, stopAt)
		if err != nil {
			res.Err = fmt.Sprintf("uac%d: %v (sipp: %v)", i, err, p.err)
			continue
		}
		res.OK += st.OK
		res.Failed += st.Failed
		res.Retrans += st.Retrans
		res.WindowOK += st.WindowOK
		weighted += float64(st.OK) * st.MeanCall.Seconds()
		if st.Window > res.Window {
			res.Window = st.Window
		}
	}
	if res.OK > 0 {
		res.MeanCall = time.Duration(weighted / float64(res.OK) * float64(time.Second))
	}
	if s.exited() {
		res.Err = strings.TrimSpace(res.Err + " " + s.name + " exited during the run; see " + s.log)
	}
	return res
}

// readStats reads a sipp -trace_stat file (a row a second): totals from
// the last row, the window from the last row written before stopAt.
func readStats(path string, stopAt time.Time) (result, error) {
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return result{}, err
	}
	if len(rows) < 2 {
		return result{}, fmt.Errorf("%s: no statistics rows", path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	num := func(row []string, name string) int { n, _ := strconv.Atoi(get(row, name)); return n }
	last, window := rows[len(rows)-1], rows[1]
	for _, row := range rows[1:] {
		if epoch(get(row, "CurrentTime")) <= float64(stopAt.UnixNano())/1e9+0.2 {
			window = row
		}
	}
	start, end := epoch(get(window, "StartTime")), epoch(get(window, "CurrentTime"))
	return result{
		OK: num(last, "SuccessfulCall(C)"), Failed: num(last, "FailedCall(C)"),
		Retrans: num(last, "Retransmissions(C)"), WindowOK: num(window, "SuccessfulCall(C)"),
		Window:   time.Duration((end - start) * float64(time.Second)),
		MeanCall: sippDuration(get(last, "ResponseTime1(C)")),
	}, nil
}

// epoch takes the seconds from sipp's "date<TAB>time<TAB>epoch" stamps.
func epoch(s string) float64 {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return v
}

// sippDuration parses sipp's "HH:MM:SS:uuuuuu".
func sippDuration(s string) time.Duration {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return 0
	}
	var v [4]int
	for i := range p {
		v[i], _ = strconv.Atoi(p[i])
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute +
		time.Duration(v[2])*time.Second + time.Duration(v[3])*time.Microsecond
}
