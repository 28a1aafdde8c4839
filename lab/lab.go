package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure a run.
type Options struct {
	// Dir is the lab's folder: a new one under the temporary folder when
	// empty; a given one must not exist or be empty.
	Dir string
	// Hop is the hop binary the lab runs (default: this program).
	Hop string
	// Keep leaves the lab running after the methods (Down stops it).
	Keep bool
	// Methods limits the run to these method IDs (default: all).
	Methods []string
	// Progress receives a line per step; nil discards.
	Progress io.Writer
}

// The lab's names.
const (
	realm     = "LAB.TEST"
	domain    = "lab.test"
	hostB     = "b.lab.test"
	hostC     = "c.lab.test"
	addrKDC   = "127.0.0.1"
	addrB     = "127.0.0.2"
	addrC     = "127.0.0.3"
	stateFile = "lab.json"
)

// cellTimeout bounds one cell: the hop exec and everything tried after.
const cellTimeout = 60 * time.Second

// lab is one running lab.
type lab struct {
	opts     Options
	dir      string
	hop      string // the copy in dir/bin, which sessions run
	probe    string // dir/bin/hop-lab-probe
	kvno     string
	root     bool
	prefix   string // of the local accounts made for the lab (root)
	start    time.Time
	logf     *os.File // dir/lab.log: every command and its output
	logMu    sync.Mutex
	progress io.Writer
	progMu   sync.Mutex

	adminURL string
	kdcAddrs []string
	conf     string // the krb5.conf of every host
	b, c     *agentHost
	users    []*user
	admin    *user // Administrator
	carol    *user // manages c$
	locals   []string

	daemons  []*exec.Cmd
	fidelity []string
}

// state is what dir/lab.json records for Down: the processes and local
// accounts to remove.
type state struct {
	PIDs   []int    `json:"pids"`
	Locals []string `json:"locals"`
	Dir    string   `json:"dir"`
}

// StepError is a failed step: which, and where its logs are.
type StepError struct {
	Step string
	Logs []string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("lab: %s: %v (logs: %s)", e.Step, e.Err, strings.Join(e.Logs, ", "))
}

func (e *StepError) Unwrap() error { return e.Err }

// Run stands the lab up, performs the methods and returns what it
// measured. Unless opts.Keep, and always when it fails, everything it
// started is stopped and the local accounts it made are removed before it
// returns.
func Run(ctx context.Context, opts Options) (rep *Report, err error) {
	l := &lab{opts: opts, start: time.Now(), root: os.Geteuid() == 0, progress: opts.Progress}
	// The lab's folders and programs are for its local accounts too: a
	// umask of 077 would hide them (secrets get explicit modes).
	syscall.Umask(0o022)
	if l.progress == nil {
		l.progress = io.Discard
	}
	if err := l.makeDir(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("lab: interrupted (%v): it stops everything it started; its files stay in %s", ctx.Err(), l.dir)
		}
		if err != nil || !opts.Keep {
			if derr := l.down(); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		if l.logf != nil {
			l.logf.Close()
		}
		// A folder the lab chose holds a master key, keytabs and
		// passwords: it goes, unless the lab is kept or failed (its logs
		// say why).
		if err == nil && !opts.Keep && opts.Dir == "" {
			if rerr := os.RemoveAll(l.dir); rerr != nil {
				err = fmt.Errorf("lab: remove its folder: %w", rerr)
			} else {
				rep.Removed = true
			}
		}
	}()
	if err := l.setup(ctx); err != nil {
		return nil, err
	}
	rep = l.report()
	for _, m := range methods {
		if len(opts.Methods) > 0 && !slices.Contains(opts.Methods, m.id) {
			continue
		}
		res, err := l.perform(ctx, m)
		if err != nil {
			return nil, err
		}
		rep.Methods = append(rep.Methods, *res)
	}
	if len(opts.Methods) == 0 {
		rep.Guard = compareGuard(rep)
		if rep.Beyond, err = l.beyond(ctx); err != nil {
			return nil, err
		}
	}
	rep.Seconds = time.Since(l.start).Seconds()
	if opts.Keep {
		rep.Keep = l.kept()
	}
	return rep, nil
}

// makeDir creates the lab's folder and its log.
func (l *lab) makeDir() error {
	dir := l.opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "hop-lab.")
		if err != nil {
			return fmt.Errorf("lab: create its folder: %w", err)
		}
		dir = d
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("lab: create its folder: %w", err)
		}
		if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
			if err == nil {
				err = errors.New("it is not empty: give a new folder, or stop the lab in it with hop lab down --dir " + dir)
			}
			return fmt.Errorf("lab: %s: %w", dir, err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// Sessions run as the lab's local accounts, which must traverse it.
	if err := os.Chmod(abs, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if l.root {
		if err := traversable(filepath.Dir(abs)); err != nil {
			return err
		}
	}
	l.dir = abs
	f, err := os.OpenFile(filepath.Join(abs, "lab.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	l.logf = f
	return nil
}

// traversable checks that every local account may reach dir: it and
// each folder above it searchable by others.
func traversable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("lab: the lab's sessions run as local accounts of their own, which cannot reach a folder under %s (mode %v): give --dir a folder they can reach, e.g. under /tmp", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// path is a file in the lab's folder.
func (l *lab) path(elem ...string) string { return filepath.Join(append([]string{l.dir}, elem...)...) }

// step prints a progress line: the time since the start, then the text.
func (l *lab) step(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.progMu.Lock()
	fmt.Fprintf(l.progress, "[%5.1fs] %s\n", time.Since(l.start).Seconds(), msg)
	l.progMu.Unlock()
	l.log("## " + msg)
}

// log appends to dir/lab.log.
func (l *lab) log(s string) {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	if l.logf != nil {
		fmt.Fprintf(l.logf, "%s %s\n", time.Now().UTC().Format("15:04:05.000"), strings.TrimRight(s, "\n"))
	}
}

// fail is a StepError for step, with the lab's log and logs.
func (l *lab) fail(step string, err error, logs ...string) error {
	return &StepError{Step: step, Err: err, Logs: append([]string{l.path("lab.log")}, logs...)}
}

// command is a hop (or other) command the lab runs and logs.
type command struct {
	step  string
	env   []string // added to the lab's environment
	stdin string
	path  string // the program (default: hop)
	args  []string
}

// run runs c and returns its standard output; a failure is an error with
// the command's standard error.
func (l *lab) run(ctx context.Context, c command) (string, error) {
	out, errOut, err := l.exec(ctx, c)
	if err != nil {
		msg := strings.TrimSpace(errOut)
		if msg == "" {
			msg = strings.TrimSpace(out)
		}
		return out, l.fail(c.step, fmt.Errorf("%s: %v: %s", display(c.args), err, lastLines(msg, 3)))
	}
	return out, nil
}

// exec runs c and returns both outputs, logged.
func (l *lab) exec(ctx context.Context, c command) (stdout, stderr string, err error) {
	prog := c.path
	if prog == "" {
		prog = l.hop
	}
	ctx, cancel := context.WithTimeout(ctx, cellTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, c.args...)
	cmd.Env = append(l.baseEnv(), c.env...)
	cmd.Stdin = strings.NewReader(c.stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	l.log(fmt.Sprintf("$ %s %s%s\n%s%s", filepath.Base(prog), display(c.args), exitNote(err), o.String(), e.String()))
	return o.String(), e.String(), err
}

// baseEnv is the environment of everything the lab runs: this process's,
// without the Kerberos variables of whoever runs the lab, and with
// HOP_LAB_DIR, by which Down finds the processes the lab left.
func (l *lab) baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KRB5CCNAME" || k == "KRB5_CONFIG" || k == "KRB5_KTNAME" || k == "KRB5_CLIENT_KTNAME" || strings.HasPrefix(k, "HOP_") || strings.HasPrefix(k, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOP_LAB_DIR="+l.dir, "KRB5_CONFIG="+l.conf)
}

func exitNote(err error) string {
	if err == nil {
		return ""
	}
	return "    # " + err.Error()
}

// display is a command line as one would type it.
func display(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@,+%^-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lastLines is the last n non-empty lines of s, joined with " / ".
func lastLines(s string, n int) string {
	var lines []string
	for _, ln := range strings.Split(s, "\n") {
		if strings.TrimSpace(ln) != "" {
			lines = append(lines, strings.TrimSpace(ln))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// startDaemon starts a long-running hop command (the KDC, an agent) in
// its own process group, with its output in logPath.
func (l *lab) startDaemon(step, logPath string, args ...string) (*exec.Cmd, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, l.fail(step, err)
	}
	defer f.Close()
	cmd := exec.Command(l.hop, args...)
	cmd.Env = l.baseEnv()
	cmd.Stdout, cmd.Stderr = f, f
	// Its own session: it outlives the lab with --keep, and a ^C at the
	// lab's terminal reaches the lab only, which stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	l.log("$ hop " + display(args) + " &    # log: " + logPath)
	if err := cmd.Start(); err != nil {
		return nil, l.fail(step, err, logPath)
	}
	l.daemons = append(l.daemons, cmd)
	if err := l.saveState(); err != nil {
		return nil, l.fail(step, err)
	}
	return cmd, nil
}

// saveState records the processes and local accounts for Down.
func (l *lab) saveState() error {
	st := state{Dir: l.dir, Locals: l.locals}
	for _, d := range l.daemons {
		st.PIDs = append(st.PIDs, d.Process.Pid)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(l.path(stateFile), b, 0o600)
}

// down stops what the lab started: its daemons (each then ends its
// sessions), any process left that carries the lab's folder in its
// environment, and the local accounts it made.
func (l *lab) down() error {
	var pids []int
	for _, d := range l.daemons {
		pids = append(pids, d.Process.Pid)
	}
	err := stop(l.dir, pids, true, l.locals, func(p int) {
		for _, d := range l.daemons {
			if d.Process.Pid == p {
				d.Wait()
			}
		}
	})
	l.daemons, l.locals = nil, nil
	os.Remove(l.path(stateFile))
	return err
}

// Down stops the lab kept running in dir (hop lab down).
func Down(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(abs, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: %s holds no running lab (no %s): it was stopped already, or the folder is another one (hop lab --keep prints it)", abs, stateFile)
	}
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil || st.Dir != abs {
		return fmt.Errorf("lab: %s: not a lab's state file (%v): remove the folder by hand", filepath.Join(abs, stateFile), err)
	}
	if err := stop(abs, st.PIDs, false, st.Locals, nil); err != nil {
		return err
	}
	return os.Remove(filepath.Join(abs, stateFile))
}

// stopWait bounds how long stop waits for a process to end after SIGTERM.
const stopWait = 5 * time.Second

// stop ends the processes pids (SIGTERM, then SIGKILL after stopWait) that
// still belong to the lab in dir — unless own (this process's children,
// not yet collected, whose pids cannot have been reused), a pid whose
// environment does not name dir is another process by now, and is left
// alone — then every process whose environment names dir, then removes
// the local accounts. reap, when set, collects a child that ended.
func stop(dir string, pids []int, own bool, locals []string, reap func(int)) error {
	var errs []error
	var ours []int
	for _, p := range pids {
		if own || isLab(p, dir) {
			ours = append(ours, p)
			syscall.Kill(p, syscall.SIGTERM)
		} else if reap != nil {
			reap(p) // ended already: collect it
		}
	}
	for _, p := range ours {
		if err := waitGone(p, reap); err != nil {
			errs = append(errs, err)
		}
	}
	// Whatever is left: sessions whose processes escaped their agent.
	for _, p := range lingering(dir) {
		syscall.Kill(p, syscall.SIGKILL)
		if err := waitGone(p, reap); err != nil {
			errs = append(errs, err)
		}
	}
	for _, u := range locals {
		if err := removeLocal(u, dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isLab reports whether process pid carries the lab in dir in its
// environment (HOP_LAB_DIR, or a path under its run folder: a session's
// KRB5_CONFIG). A process this user may not read is not the lab's.
func isLab(pid int, dir string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return err == nil && (bytes.Contains(env, []byte("HOP_LAB_DIR="+dir+"\x00")) || bytes.Contains(env, []byte(filepath.Join(dir, "run")+"/")))
}

// waitGone waits until pid has ended: SIGKILL after stopWait, then an
// error if it still runs after another stopWait.
func waitGone(pid int, reap func(int)) error {
	if reap != nil {
		go reap(pid)
	}
	deadline, killed := time.Now().Add(stopWait), false
	for alive(pid) {
		if time.Now().After(deadline) {
			if killed {
				return fmt.Errorf("lab: process %d does not end; stop it by hand (kill -9 %d)", pid, pid)
			}
			syscall.Kill(pid, syscall.SIGKILL)
			deadline, killed = time.Now().Add(stopWait), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// alive reports whether pid runs (a zombie has ended).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// lingering lists the processes, other than this one, that carry the lab
// in dir in their environment.
func lingering(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || !alive(pid) {
			continue
		}
		if isLab(pid, dir) {
			out = append(out, pid)
		}
	}
	return out
}
