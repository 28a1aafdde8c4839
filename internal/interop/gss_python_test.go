package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
	"hop/krb5/spnego"
)

// gssPythonAcceptor is an acceptor written with python3-gssapi, the Python
// binding of MIT's GSS-API library: unlike gss-server it checks the
// initiator's MIC, which is what an SSH server does with gssapi-with-mic
// (RFC 4462 §3.5). On one connection (MIT's sample framing) it accepts the
// context, unwraps a sealed and an integrity-only Wrap token, verifies a
// MIC over a session identifier, answers with its own MIC and Wrap token,
// and prints what it saw as JSON.
const gssPythonAcceptor = `
import json, socket, struct, sys
import gssapi

def recv(c):
    def full(n):
        b = b''
        while len(b) < n:
            d = c.recv(n - len(b))
            if not d:
                raise EOFError('connection closed')
            b += d
        return b
    h = full(5)
    return h[0], full(struct.unpack('>I', h[1:])[0])

def send(c, flags, tok):
    c.sendall(bytes([flags]) + struct.pack('>I', len(tok)) + tok)

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', int(sys.argv[1])))
srv.listen(1)
c, _ = srv.accept()
ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage='accept'), usage='accept')
while not ctx.complete:
    _, tok = recv(c)
    out = ctx.step(tok)
    if out:
        send(c, 2, out)
res = {'initiator': str(ctx.initiator_name), 'mech': ctx.mech.dotted_form,
       'mutual': gssapi.RequirementFlag.mutual_authentication in ctx.actual_flags}
_, t = recv(c)
r = ctx.unwrap(t)
res['sealed'] = [r.message.decode(), r.encrypted]
_, t = recv(c)
r = ctx.unwrap(t)
res['integrity'] = [r.message.decode(), r.encrypted]
_, sid = recv(c)
_, mic = recv(c)
ctx.verify_signature(sid, mic)
res['mic_verified'] = sid.decode()
send(c, 8, ctx.get_signature(b'MIT session identifier'))
send(c, 4, ctx.wrap(b'sealed by MIT', True).message)
print(json.dumps(res))
`

// hop's initiator against an MIT acceptor that verifies hop's MIC and
// unwraps hop's tokens, bare Kerberos and through SPNEGO.
func TestGSSInitiatorWithMITPython(t *testing.T) {
	python, err := gssPython(t)
	if err != nil {
		if thirdparty.Interop() {
			t.Fatalf("%v (HOP_INTEROP=1 forbids skipping: run scripts/install-test-deps)", err)
		}
		t.Skipf("%v (run scripts/install-test-deps)", err)
	}
	r := newRealm(t, "")
	env, _ := r.env(t)
	env = append(env, "KRB5_KTNAME=FILE:"+filepath.Join(r.dir, "b.keytab"))
	script := filepath.Join(t.TempDir(), "acceptor.py")
	if err := os.WriteFile(script, []byte(gssPythonAcceptor), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: realm}
	kc := client.Dial(r.addr, client.UDPThenTCP, 10*time.Second)
	defer kc.Close()
	tgt, _, err := kc.Login(ctx, &client.Request{Client: alice}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := kc.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		flags  gssapi.Flags
		spnego bool
	}{
		{"mutual", gssapi.FlagMutual | gssapi.FlagReplay | gssapi.FlagSequence, false},
		{"no mutual authentication", gssapi.FlagReplay, false},
		// MIT reports the negotiated mechanism, Kerberos, for SPNEGO too.
		{"SPNEGO", gssapi.FlagReplay, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := thirdparty.FreeLoopbackPort(t, "127.0.0.1")
			type result struct {
				out, errOut string
				err         error
			}
			done := make(chan result, 1)
			go func() {
				out, errOut, err := thirdparty.Run(t, env, "", python, script, strconv.Itoa(port))
				done <- result{out, errOut, err}
			}()
			conn, err := gssDial(port, done)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			cerr := gssPythonSession(conn, cred, tc.flags, tc.spnego)
			var res result
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the Python acceptor did not exit")
			}
			if cerr != nil || res.err != nil {
				t.Fatalf("hop: %v; python3-gssapi: %v\n%s%s", cerr, res.err, res.out, res.errOut)
			}
			var got struct {
				Initiator   string
				Mech        string
				Mutual      bool
				Sealed      []any
				Integrity   []any
				MICVerified string `json:"mic_verified"`
			}
			if err := json.Unmarshal([]byte(res.out), &got); err != nil {
				t.Fatalf("%v: %q", err, res.out)
			}
			if got.Initiator != "alice@EXAMPLE.TEST" || got.Mech != "1.2.840.113554.1.2.2" || got.MICVerified != "SSH session identifier" {
				t.Errorf("MIT saw %+v", got)
			}
			if fmt.Sprint(got.Sealed) != "[sealed by hop true]" || fmt.Sprint(got.Integrity) != "[integrity-protected by hop false]" {
				t.Errorf("MIT unwrapped %v and %v", got.Sealed, got.Integrity)
			}
			if got.Mutual != (tc.flags&gssapi.FlagMutual != 0 || tc.spnego) {
				t.Errorf("MIT says mutual %v", got.Mutual)
			}
		})
	}
}

// gssPython returns Debian's Python if it has python3-gssapi.
func gssPython(t *testing.T) (string, error) {
	python := "/usr/bin/python3"
	if _, errOut, err := thirdparty.Run(t, nil, "", python, "-c", "import gssapi"); err != nil {
		return "", fmt.Errorf("%s cannot import gssapi (Debian package python3-gssapi): %v %s", python, err, errOut)
	}
	return python, nil
}

// gssDial connects to a peer about to listen on port, giving up when it
// exits.
func gssDial[T any](port int, exited <-chan T) (net.Conn, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return conn, nil
		}
		select {
		case res := <-exited:
			return nil, fmt.Errorf("the peer exited: %+v", res)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the peer does not listen on port %d: %v", port, err)
		}
	}
}

// gssPythonSession is hop's side of gssPythonAcceptor's exchange.
func gssPythonSession(conn net.Conn, cred *client.Credential, flags gssapi.Flags, useSPNEGO bool) error {
	r := bufio.NewReader(conn)
	var ic *gssapi.Context
	if useSPNEGO {
		neg, tok, err := spnego.Initiate(cred, &gssapi.InitOptions{Flags: flags}, nil)
		if err != nil {
			return err
		}
		if err := gssSend(conn, gssTokenContext, tok); err != nil {
			return err
		}
		for !neg.Done() {
			_, rep, err := gssRecv(r)
			if err != nil {
				return err
			}
			out, err := neg.Step(rep)
			if err != nil {
				return fmt.Errorf("SPNEGO: %w", err)
			}
			if out != nil {
				if err := gssSend(conn, gssTokenContext, out); err != nil {
					return err
				}
			}
		}
		ic = neg.Context()
	} else {
		c, tok, err := gssapi.InitSecContext(cred, &gssapi.InitOptions{Flags: flags})
		if err != nil {
			return err
		}
		if err := gssSend(conn, gssTokenContext, tok); err != nil {
			return err
		}
		if flags&gssapi.FlagMutual != 0 {
			_, rep, err := gssRecv(r)
			if err != nil {
				return err
			}
			if err := c.Continue(rep); err != nil {
				return err
			}
		}
		ic = c
	}
	sealed, err := ic.Wrap([]byte("sealed by hop"), true)
	if err != nil {
		return err
	}
	integ, err := ic.Wrap([]byte("integrity-protected by hop"), false)
	if err != nil {
		return err
	}
	sid := []byte("SSH session identifier")
	mic, err := ic.MakeMIC(sid)
	if err != nil {
		return err
	}
	for _, tok := range [][]byte{sealed, integ, sid, mic} {
		if err := gssSend(conn, gssTokenData, tok); err != nil {
			return err
		}
	}
	_, theirMIC, err := gssRecv(r)
	if err != nil {
		return err
	}
	if err := ic.VerifyMIC([]byte("MIT session identifier"), theirMIC); err != nil {
		return fmt.Errorf("VerifyMIC of MIT's MIC: %w", err)
	}
	_, wrapped, err := gssRecv(r)
	if err != nil {
		return err
	}
	msg, conf, err := ic.Unwrap(wrapped)
	if err != nil || string(msg) != "sealed by MIT" || !conf {
		return fmt.Errorf("Unwrap of MIT's token: %q %v %v", msg, conf, err)
	}
	return nil
}
