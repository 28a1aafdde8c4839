package interop

import (
	"bufio"
	"context"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
	"hop/krb5/keytab"
	"hop/krb5/service"
	"hop/krb5/spnego"
)

// MIT's GSS-API sample protocol (src/appl/gss-sample/gss-misc.h): each
// token is a flags byte, a 4-byte big-endian length and the token.
const (
	gssTokenNoop        = 1 << 0
	gssTokenContext     = 1 << 1
	gssTokenData        = 1 << 2
	gssTokenMIC         = 1 << 3
	gssTokenContextNext = 1 << 4
	gssTokenWrapped     = 1 << 5
	gssTokenEncrypted   = 1 << 6
	gssTokenSendMIC     = 1 << 7
)

// gssMaxToken bounds the tokens the test's peers read.
const gssMaxToken = 1 << 20

func gssSend(w io.Writer, flags byte, tok []byte) error {
	b := make([]byte, 5+len(tok))
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], uint32(len(tok)))
	copy(b[5:], tok)
	_, err := w.Write(b)
	return err
}

func gssRecv(r io.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > gssMaxToken {
		return 0, nil, fmt.Errorf("token of %d bytes", n)
	}
	tok := make([]byte, n)
	_, err := io.ReadFull(r, tok)
	return h[0], tok, err
}

// gssServed is what the Go acceptor saw of one gss-client connection.
type gssServed struct {
	ctx      *gssapi.Context
	mechs    []asn1.ObjectIdentifier // the SPNEGO mechTypes, nil for a bare Kerberos token
	messages []string
	conf     []bool
	err      error
}

// gssServeOne speaks the gss-server side of the sample protocol on one
// connection with hop's acceptor: it accepts the context, then unwraps
// each data token and answers it with a MIC when asked, as gss-server's
// sign_server does.
func gssServeOne(conn net.Conn, acc *gssapi.Acceptor) (s gssServed) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	flags, _, err := gssRecv(r)
	if err != nil || flags&gssTokenNoop == 0 || flags&gssTokenContextNext == 0 {
		s.err = fmt.Errorf("first token: flags %d, %v", flags, err)
		return s
	}
	// SPNEGO's acceptor takes bare Kerberos tokens too, as gss-server's
	// default credential does.
	n := (&spnego.Acceptor{GSS: acc}).Start(nil)
	for !n.Done() {
		_, tok, err := gssRecv(r)
		if err != nil {
			s.err = err
			return s
		}
		if init, err := spnego.ParseNegTokenInit(tok); err == nil && s.mechs == nil {
			s.mechs = init.MechTypes
		}
		out, err := n.Step(tok)
		if out != nil {
			if err := gssSend(conn, gssTokenContext, out); err != nil {
				s.err = err
				return s
			}
		}
		if err != nil {
			s.err = fmt.Errorf("accept: %w", err)
			return s
		}
	}
	ctx := n.Context()
	s.ctx = ctx
	for {
		flags, tok, err := gssRecv(r)
		if err != nil {
			s.err = err
			return s
		}
		if flags&gssTokenNoop != 0 {
			return s
		}
		msg, conf := tok, false
		if flags&gssTokenWrapped != 0 {
			if msg, conf, err = ctx.Unwrap(tok); err != nil {
				s.err = fmt.Errorf("Unwrap: %w", err)
				return s
			}
		}
		s.messages = append(s.messages, string(msg))
		s.conf = append(s.conf, conf)
		if flags&gssTokenSendMIC != 0 {
			mic, err := ctx.MakeMIC(msg)
			if err != nil {
				s.err = err
				return s
			}
			s.err = gssSend(conn, gssTokenMIC, mic)
		} else {
			s.err = gssSend(conn, gssTokenNoop, nil)
		}
		if s.err != nil {
			return s
		}
	}
}

// gssKeytabAcceptor is a GSS acceptor over the keytab file at path.
func gssKeytabAcceptor(t *testing.T, path string) *gssapi.Acceptor {
	t.Helper()
	kt, err := keytab.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return &gssapi.Acceptor{Service: &service.Acceptor{Keys: service.KeytabFile(kt)}}
}

// hop's acceptor against MIT's gss-client: MIT wraps (sealed and
// integrity-only) and hop unwraps; hop makes MICs and MIT verifies them;
// MIT delegates a TGT with -d and the delegated TGT works at hop's KDC.
func TestGSSAcceptorWithMITClient(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	gssClient := thirdparty.Require(t, "gss-client")
	r := newRealm(t, "")
	env, _ := r.env(t)
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "-f", "alice"); err != nil {
		t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
	}
	acc := gssKeytabAcceptor(t, filepath.Join(r.dir, "b.keytab"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		name      string
		args      []string
		conf      bool // messages arrive sealed
		flags     gssapi.Flags
		notFlags  gssapi.Flags
		delegated bool
		enctype   string // the only type the client permits ("" = all)
	}{
		{"wrap sealed, MIC", nil, true, gssapi.FlagMutual | gssapi.FlagReplay | gssapi.FlagConf | gssapi.FlagInteg, gssapi.FlagDeleg, false, ""},
		{"wrap integrity only", []string{"-nx"}, false, gssapi.FlagMutual, 0, false, ""},
		{"no wrap, MIC only", []string{"-nw"}, false, gssapi.FlagMutual, 0, false, ""},
		{"sequence, three messages", []string{"-seq", "-mcount", "3"}, true, gssapi.FlagSequence | gssapi.FlagReplay, 0, false, ""},
		{"no mutual authentication", []string{"-nomutual", "-noreplay"}, true, 0, gssapi.FlagMutual | gssapi.FlagReplay, false, ""},
		{"delegation", []string{"-d"}, true, gssapi.FlagDeleg | gssapi.FlagMutual, 0, true, ""},
		{"aes128-cts-hmac-sha1-96", nil, true, gssapi.FlagMutual, 0, false, "aes128-cts-hmac-sha1-96"},
		{"aes256-cts-hmac-sha1-96", []string{"-nx"}, false, gssapi.FlagMutual, 0, false, "aes256-cts-hmac-sha1-96"},
		{"aes128-cts-hmac-sha256-128", nil, true, gssapi.FlagMutual, 0, false, "aes128-cts-hmac-sha256-128"},
		{"SPNEGO", []string{"-spnego"}, true, gssapi.FlagMutual | gssapi.FlagReplay, 0, false, ""},
		{"SPNEGO with delegation", []string{"-spnego", "-d", "-nx"}, false, gssapi.FlagDeleg, 0, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := env
			if tc.enctype != "" {
				env = gssRestrictedEnv(t, r, tc.enctype)
				if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
					t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
				}
			}
			msg := "hop GSS-API interop: " + tc.name
			served := make(chan gssServed, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					served <- gssServed{err: err}
					return
				}
				served <- gssServeOne(conn, acc)
			}()
			args := append([]string{"-port", port}, tc.args...)
			args = append(args, "127.0.0.1", "host@b.example.test", msg)
			out, errOut, err := thirdparty.Run(t, env, "", gssClient, args...)
			var s gssServed
			select {
			case s = <-served:
			case <-time.After(30 * time.Second):
				ln.Close()
				t.Fatal("the Go acceptor did not finish")
			}
			if err != nil || s.err != nil {
				t.Fatalf("gss-client %s: %v (acceptor: %v)\n%s%s", strings.Join(tc.args, " "), err, s.err, out, errOut)
			}
			// Every case asks for a MIC (no -nm): "Signature verified." says
			// MIT checked hop's MIC.
			mustContain(t, "gss-client", out, "Signature verified.")
			n := 1
			if tc.name == "sequence, three messages" {
				n = 3
			}
			if len(s.messages) != n {
				t.Fatalf("the acceptor got %d messages, want %d", len(s.messages), n)
			}
			for i, m := range s.messages {
				if m != msg || s.conf[i] != tc.conf {
					t.Errorf("message %d: %q sealed %v, want %q sealed %v", i, m, s.conf[i], msg, tc.conf)
				}
			}
			if spnegoUsed := slices.Contains(tc.args, "-spnego"); spnegoUsed != (s.mechs != nil) {
				t.Errorf("SPNEGO used: %v, want %v", s.mechs != nil, spnegoUsed)
			} else if spnegoUsed {
				t.Logf("MIT's SPNEGO offers %v", s.mechs)
				if !s.mechs[0].Equal(gssapi.OIDKerberos) {
					t.Errorf("MIT's SPNEGO lists %v first", s.mechs[0])
				}
			}
			if s.ctx.Client().String() != "alice@EXAMPLE.TEST" || s.ctx.Server().String() != "host/b.example.test@EXAMPLE.TEST" {
				t.Errorf("context %s -> %s", s.ctx.Client(), s.ctx.Server())
			}
			if f := s.ctx.Flags(); f&tc.flags != tc.flags || f&tc.notFlags != 0 {
				t.Errorf("flags %v: want %v set and %v clear", f, tc.flags, tc.notFlags)
			}
			if e := s.ctx.Accepted().SessionKey.EncType(); tc.enctype != "" && e.String() != tc.enctype {
				t.Errorf("session key %v, want %s", e, tc.enctype)
			}
			if p := s.ctx.Accepted().PAC; p == nil || p.LogonInfo == nil || p.LogonInfo.EffectiveName != "alice" {
				t.Errorf("PAC %+v", p)
			}
			if !tc.delegated {
				return
			}
			d := s.ctx.Delegated()
			if d == nil {
				t.Fatal("no delegated credential")
			}
			creds, err := d.Credentials()
			if err != nil || len(creds) != 1 || creds[0].Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" ||
				creds[0].Client.String() != "alice@EXAMPLE.TEST" || creds[0].Flags&krb5.TktForwarded == 0 {
				t.Fatalf("delegated %v, %v", creds, err)
			}
			// The service uses the delegated TGT at hop's KDC.
			c := client.Dial(r.addr, client.UDPThenTCP, 10*time.Second)
			defer c.Close()
			st, err := c.ServiceTicket(context.Background(), creds[0], &client.Request{Service: krb5.NewName(krb5.NTSrvInst, "HTTP", "web.example.test")})
			if err != nil {
				t.Fatalf("TGS-REQ with the delegated TGT: %v", err)
			}
			if st.Client.String() != "alice@EXAMPLE.TEST" {
				t.Errorf("service ticket for %s", st.Client)
			}
		})
	}
}

// gssRestrictedEnv is a client environment whose krb5.conf permits only
// the encryption type etype, with a fresh credential cache.
func gssRestrictedEnv(t *testing.T, r *testRealm, etype string) []string {
	t.Helper()
	b, err := os.ReadFile(r.conf)
	if err != nil {
		t.Fatal(err)
	}
	only := "\tdefault_tkt_enctypes = " + etype + "\n\tdefault_tgs_enctypes = " + etype + "\n\tpermitted_enctypes = " + etype + "\n"
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(conf, []byte(strings.Replace(string(b), "[libdefaults]\n", "[libdefaults]\n"+only, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
}

// hop's initiator against MIT's gss-server: hop wraps (sealed, integrity
// only, plain) and MIT unwraps; MIT makes MICs and hop verifies them.
func TestGSSInitiatorWithMITServer(t *testing.T) {
	gssServer := thirdparty.Require(t, "gss-server")
	r := newRealm(t, "")
	env, _ := r.env(t)
	env = append(env, "KRB5_KTNAME=FILE:"+filepath.Join(r.dir, "b.keytab"))

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
		{"mutual, replay, sequence", gssapi.FlagMutual | gssapi.FlagReplay | gssapi.FlagSequence, false},
		{"no mutual authentication", gssapi.FlagReplay, false},
		{"SPNEGO", gssapi.FlagReplay | gssapi.FlagSequence, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := thirdparty.FreeLoopbackPort(t, "127.0.0.1")
			logf := filepath.Join(t.TempDir(), "gss-server.log")
			type result struct {
				out, errOut string
				err         error
			}
			done := make(chan result, 1)
			go func() {
				out, errOut, err := thirdparty.Run(t, env, "", gssServer, "-port", strconv.Itoa(port), "-once", "-logfile", logf, "host@b.example.test")
				done <- result{out, errOut, err}
			}()
			var conn net.Conn
			deadline := time.Now().Add(15 * time.Second)
			for {
				conn, err = net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err == nil {
					break
				}
				select {
				case res := <-done:
					t.Fatalf("gss-server exited: %v\n%s%s", res.err, res.out, res.errOut)
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("gss-server does not listen: %v", err)
				}
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			err := gssInitiate(conn, cred, tc.flags, tc.spnego)
			var res result
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("gss-server did not exit")
			}
			if err != nil || res.err != nil {
				log, _ := gssReadFile(logf)
				t.Fatalf("initiator: %v; gss-server: %v\n%s%s%s", err, res.err, res.out, res.errOut, log)
			}
			mustContain(t, "gss-server", res.out, `Accepted connection: "alice@EXAMPLE.TEST"`)
			log, _ := gssReadFile(logf)
			for _, m := range []string{"sealed by hop", "integrity-protected by hop", "sent in the clear by hop"} {
				mustContain(t, "gss-server log", log, `Received message: "`+m+`"`)
			}
		})
	}
}

func gssReadFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// gssInitiate is the gss-client side of the sample protocol with hop's
// initiator: it establishes the context and sends three messages, sealed,
// integrity-protected and plain, each with a request for a MIC, which it
// verifies.
func gssInitiate(conn net.Conn, cred *client.Credential, flags gssapi.Flags, useSPNEGO bool) error {
	var (
		ic  *gssapi.Context
		neg *spnego.Initiation
		tok []byte
		err error
	)
	if useSPNEGO {
		neg, tok, err = spnego.Initiate(cred, &gssapi.InitOptions{Flags: flags}, nil)
		if neg != nil {
			ic = neg.Context()
		}
	} else {
		ic, tok, err = gssapi.InitSecContext(cred, &gssapi.InitOptions{Flags: flags})
	}
	if err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	if err := gssSend(conn, gssTokenNoop|gssTokenContextNext, nil); err != nil {
		return err
	}
	if err := gssSend(conn, gssTokenContext, tok); err != nil {
		return err
	}
	if useSPNEGO {
		for !neg.Done() {
			_, rep, err := gssRecv(r)
			if err != nil {
				return err
			}
			out, err := neg.Step(rep)
			if err != nil {
				return fmt.Errorf("SPNEGO step: %w", err)
			}
			if out != nil {
				if err := gssSend(conn, gssTokenContext, out); err != nil {
					return err
				}
			}
		}
	} else if flags&gssapi.FlagMutual != 0 {
		_, rep, err := gssRecv(r)
		if err != nil {
			return err
		}
		if err := ic.Continue(rep); err != nil {
			return fmt.Errorf("Continue: %w", err)
		}
	}
	if !ic.Established() {
		return errors.New("the context is not established")
	}
	for _, m := range []struct {
		text  string
		wrap  bool
		conf  bool
		flags byte
	}{
		{"sealed by hop", true, true, gssTokenData | gssTokenWrapped | gssTokenEncrypted | gssTokenSendMIC},
		{"integrity-protected by hop", true, false, gssTokenData | gssTokenWrapped | gssTokenSendMIC},
		{"sent in the clear by hop", false, false, gssTokenData | gssTokenSendMIC},
	} {
		out := []byte(m.text)
		if m.wrap {
			if out, err = ic.Wrap([]byte(m.text), m.conf); err != nil {
				return err
			}
		}
		if err := gssSend(conn, m.flags, out); err != nil {
			return err
		}
		f, mic, err := gssRecv(r)
		if err != nil {
			return err
		}
		if f != gssTokenMIC {
			return fmt.Errorf("reply flags %d, want a MIC", f)
		}
		if err := ic.VerifyMIC([]byte(m.text), mic); err != nil {
			return fmt.Errorf("VerifyMIC of MIT's MIC over %q: %w", m.text, err)
		}
	}
	return gssSend(conn, gssTokenNoop, nil)
}
