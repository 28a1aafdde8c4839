// Package remotetest runs a small SSH server for tests of hop's remoting
// client (hop/remote, hop exec, hop shell): it authenticates users with
// gssapi-with-mic (RFC 4462 §3) through hop/krb5/gssapi's Acceptor with a
// host key for host/<fqdn> in an in-process domain (hop/internal/testrealm),
// speaks hop's SSH extension (hop/remoting: endpoint@hop, endpoints@hop) and runs
// commands with sh (REMOTETEST_HOST in their environment names the
// server), on a pseudo-terminal when asked for one. It records the
// requests it receives, so that tests can check what the client sent.
package remotetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/gssapi"
	"hop/krb5/keytab"
	"hop/krb5/service"
	"hop/remoting"
)

// Config configures a Server.
type Config struct {
	// Host is the server's FQDN; its key is host/<Host> in the lab's realm.
	Host string
	// Refuse returns why principal (alice@EXAMPLE.TEST) may not log on, or
	// "" to let it; the reason goes to the client in a banner. nil: all may.
	Refuse func(principal string) string
	// Endpoints are the endpoint names endpoint@hop accepts (besides
	// "default").
	Endpoints []string
	// EndpointsReply is the raw payload answered to endpoints@hop; nil
	// refuses the request.
	EndpointsReply []byte
	// RefusedEndpointMessage is written to stderr by an exec or shell after
	// a refused endpoint@hop (then exit status 255).
	RefusedEndpointMessage string
	// Banner, if set, is sent as an SSH banner (RFC 4252 §5.4) before
	// authentication.
	Banner string
}

// Server is a running test server.
type Server struct {
	Addr    string        // 127.0.0.1:PORT
	Port    int           // the TCP port
	HostKey ssh.PublicKey // the server's host key
	cfg     Config
	signer  ssh.Signer
	accept  *service.Acceptor

	mu     sync.Mutex
	events []string
	notify chan struct{}
}

// HostSigner returns the deterministic ed25519 host key of a name, so that
// tests can make "another host's" key.
func HostSigner(t testing.TB, name string) ssh.Signer {
	seed := sha256.Sum256([]byte("remotetest host key " + name))
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Start registers host/<cfg.Host> in lab and serves on 127.0.0.1 until the
// test ends.
func Start(t testing.TB, lab *testrealm.Lab, cfg Config) *Server {
	t.Helper()
	label, _, _ := strings.Cut(cfg.Host, ".")
	keys := lab.AddService(t, "svc-"+label, "host/"+cfg.Host)
	acct, err := lab.Dir.Account(context.Background(), "svc-"+label)
	if err != nil {
		t.Fatal(err)
	}
	p := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", cfg.Host), Realm: testrealm.Realm}
	kt := &keytab.Keytab{}
	for _, k := range keys {
		kt.Entries = append(kt.Entries, keytab.Entry{Principal: p, Timestamp: time.Now(), KVNO: acct.KVNO, EncType: k.EncType, Key: k.Material()})
	}
	s := &Server{cfg: cfg, signer: HostSigner(t, cfg.Host), accept: &service.Acceptor{Keys: service.KeytabFile(kt)}, notify: make(chan struct{}, 1)}
	s.HostKey = s.signer.PublicKey()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conns.Delete(c)
				s.serve(c)
			}()
		}
	}()
	return s
}

// Events returns the requests received so far, as "type payload" lines:
// "login alice@EXAMPLE.TEST", "pty-req xterm 80x24", "window-change 100x30",
// "endpoint dns-ops", "exec CMD", "shell", "endpoints".
func (s *Server) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

// WaitEvent waits up to 10s for an event that starts with prefix.
func (s *Server) WaitEvent(t testing.TB, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, e := range s.Events() {
			if strings.HasPrefix(e, prefix) {
				return e
			}
		}
		select {
		case <-s.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q event; got %q", prefix, s.Events())
			return ""
		}
	}
}

func (s *Server) event(format string, args ...any) {
	s.mu.Lock()
	s.events = append(s.events, fmt.Sprintf(format, args...))
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// gssServer is the per-connection ssh.GSSAPIServer.
type gssServer struct {
	s   *Server
	acc *gssapi.Acceptor
	ctx *gssapi.Context
}

func (g *gssServer) AcceptSecContext(token []byte) ([]byte, string, bool, error) {
	c, out, err := g.acc.Accept(token, nil)
	if err != nil {
		g.s.event("gss-refused %v", err)
		return nil, "", false, err
	}
	g.ctx = c
	return out, c.Client().String(), false, nil
}

func (g *gssServer) VerifyMIC(field, token []byte) error {
	if g.ctx == nil {
		return errors.New("remotetest: MIC before the context")
	}
	if err := g.ctx.VerifyMIC(field, token); err != nil {
		g.s.event("mic-refused %v", err)
		return err
	}
	return nil
}

func (g *gssServer) DeleteSecContext() error { return nil }

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	cfg := &ssh.ServerConfig{
		GSSAPIWithMICConfig: &ssh.GSSAPIWithMICConfig{
			Server: &gssServer{s: s, acc: &gssapi.Acceptor{Service: s.accept}},
			AllowLogin: func(_ ssh.ConnMetadata, name string) (*ssh.Permissions, error) {
				if s.cfg.Refuse != nil {
					if why := s.cfg.Refuse(name); why != "" {
						s.event("refused %s", name)
						return nil, &ssh.BannerError{Err: errors.New("refused"), Message: why + "\r\n"}
					}
				}
				s.event("login %s", name)
				return &ssh.Permissions{}, nil
			},
		},
	}
	if s.cfg.Banner != "" {
		cfg.BannerCallback = func(ssh.ConnMetadata) string { return s.cfg.Banner }
	}
	cfg.AddHostKey(s.signer)
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go func() {
		for r := range reqs {
			if r.Type == remoting.EndpointsRequest {
				s.event("endpoints")
				r.Reply(s.cfg.EndpointsReply != nil, s.cfg.EndpointsReply)
				continue
			}
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}()
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs)
		}()
	}
	wg.Wait()
}

type ptyReq struct {
	Term          string
	Cols, Rows    uint32
	Width, Height uint32
	Modes         string
}

// session serves one session channel.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var (
		pt       *ptyReq
		ptmx     *os.File
		pmu      sync.Mutex
		refused  bool
		started  bool
		proc     *exec.Cmd
		finished = make(chan struct{})
	)
	for r := range reqs {
		switch r.Type {
		case remoting.EndpointRequest:
			name, err := remoting.DecodeEndpointRequest(r.Payload)
			if err != nil {
				r.Reply(false, nil)
				continue
			}
			s.event("endpoint %s", name)
			ok := false
			for _, e := range s.cfg.Endpoints {
				ok = ok || e == name
			}
			refused = !ok
			r.Reply(ok, nil)
		case "pty-req":
			var p ptyReq
			if err := ssh.Unmarshal(r.Payload, &p); err != nil {
				r.Reply(false, nil)
				continue
			}
			pt = &p
			s.event("pty-req %s %dx%d", p.Term, p.Cols, p.Rows)
			r.Reply(true, nil)
		case "window-change":
			var w struct{ Cols, Rows, Width, Height uint32 }
			if err := ssh.Unmarshal(r.Payload, &w); err == nil {
				s.event("window-change %dx%d", w.Cols, w.Rows)
				pmu.Lock()
				if ptmx != nil {
					pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(w.Cols), Rows: uint16(w.Rows)})
				}
				pmu.Unlock()
			}
		case "exec", "shell":
			if started {
				r.Reply(false, nil)
				continue
			}
			started = true
			var cmd *exec.Cmd
			if r.Type == "exec" {
				var m struct{ Cmd string }
				if err := ssh.Unmarshal(r.Payload, &m); err != nil {
					r.Reply(false, nil)
					continue
				}
				s.event("exec %s", m.Cmd)
				cmd = exec.Command("/bin/sh", "-c", m.Cmd)
			} else {
				s.event("shell")
				cmd = exec.Command("/bin/sh")
			}
			r.Reply(true, nil)
			proc = cmd
			if refused {
				io.WriteString(ch.Stderr(), s.cfg.RefusedEndpointMessage)
				exitStatus(ch, 255)
				return
			}
			cmd.Env = []string{"PATH=/usr/bin:/bin", "PS1=$ ", "HOME=/", "REMOTETEST_HOST=" + s.cfg.Host}
			if pt != nil {
				cmd.Env = append(cmd.Env, "TERM="+pt.Term)
				f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(pt.Cols), Rows: uint16(pt.Rows)})
				if err != nil {
					io.WriteString(ch.Stderr(), err.Error())
					exitStatus(ch, 255)
					return
				}
				pmu.Lock()
				ptmx = f
				pmu.Unlock()
				go func() { io.Copy(f, ch) }()
				go func() {
					io.Copy(ch, f)
					cmd.Wait()
					pmu.Lock()
					f.Close()
					ptmx = nil
					pmu.Unlock()
					s.exit(ch, cmd)
					close(finished)
				}()
			} else {
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
				in, err := cmd.StdinPipe()
				if err == nil {
					err = cmd.Start()
				}
				if err != nil {
					io.WriteString(ch.Stderr(), err.Error())
					exitStatus(ch, 127)
					return
				}
				go func() {
					io.Copy(in, ch)
					in.Close()
				}()
				go func() {
					cmd.Wait()
					s.exit(ch, cmd)
					close(finished)
				}()
			}
			go func() {
				<-finished
				ch.Close()
			}()
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
	if started {
		// The client closed the channel: end the command, as the agent does.
		select {
		case <-finished:
		default:
			if proc != nil && proc.Process != nil {
				syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
			}
			<-finished
		}
	}
}

func (s *Server) exit(ch ssh.Channel, cmd *exec.Cmd) {
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		name := strings.TrimPrefix(unixSignalName(ws.Signal()), "SIG")
		ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Msg, Lang  string
		}{name, ws.CoreDump(), "", ""}))
		return
	}
	exitStatus(ch, ws.ExitStatus())
}

func exitStatus(ch ssh.Channel, n int) {
	ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(n)))
}

func unixSignalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGKILL: "KILL", syscall.SIGINT: "INT",
		syscall.SIGHUP: "HUP", syscall.SIGQUIT: "QUIT", syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2", syscall.SIGPIPE: "PIPE"}
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprint(int(sig))
}
