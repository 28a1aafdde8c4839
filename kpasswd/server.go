package kpasswd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"hop/audit"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/service"
	"hop/krb5/wire"
)

// This file holds the server's handling of one request: Handle. serve.go
// holds the UDP and TCP loops around it.

// Server answers change-password and set-password requests for the accounts
// of a directory. Its zero values are sane defaults; Directory is required.
// A Server is safe for concurrent use once serving has started; do not change
// its fields after that.
type Server struct {
	// Directory holds the accounts whose passwords change, and the keys of
	// kadmin/changepw. Required.
	Directory *directory.Directory
	// Acceptor checks the AP-REQ of each request. nil = NewAcceptor over
	// Directory, with the Server's clock.
	Acceptor *service.Acceptor
	// Audit receives one event per request: who, for whom, the result;
	// never a password. nil = audit.Discard.
	Audit audit.Sink
	// RefuseUnaudited refuses every request while Audit, an
	// audit.Checker, cannot write its events (hop kdc --audit-failure
	// refuse): no password changes without its record.
	RefuseUnaudited bool
	// Logger receives operational messages (not per-request events);
	// nil = discard.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the source of confounders and sequence numbers; default
	// crypto/rand.
	Rand io.Reader

	once sync.Once
	acc  *service.Acceptor
	log  *slog.Logger
	sink audit.Sink
}

func (s *Server) init() {
	s.once.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.sink = s.Audit
		if s.sink == nil {
			s.sink = audit.Discard
		}
		s.acc = s.Acceptor
		if s.acc == nil && s.Directory != nil {
			s.acc = NewAcceptor(s.Directory)
			s.acc.Now = s.now
			s.acc.Rand = s.Rand
		}
	})
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

// Validate reports what is wrong with s.
func (s *Server) Validate() error {
	if s.Directory == nil {
		return errors.New("kpasswd: Server.Directory is required")
	}
	return nil
}

// request is what Handle learns about one request, for its reply and its
// audit event.
type request struct {
	addr    string
	version uint16
	op      string // "change", "set"; "" until known
	realm   krb5.Realm
	client  string // principal, once the AP-REQ is accepted
	target  string
	acc     *service.Accepted
	seq     uint32 // the server's sequence number (AP-REP and reply KRB-PRIV)
}

// refusal is a result to answer with, and the KRB-ERROR code to use when no
// key is established yet.
type refusal struct {
	code    ResultCode
	krbCode krb5.ErrorCode
	msg     string
}

func refuse(code ResultCode, format string, args ...any) *refusal {
	return &refusal{code: code, krbCode: krb5.KRBErrGeneric, msg: fmt.Sprintf(format, args...)}
}

// Handle answers one request, msg, received from addr (used in the audit
// log only), and returns the reply to send: nil when there is nothing to
// answer (an empty datagram). msg is untrusted: every length is checked and
// nothing in it can make Handle panic or do unbounded work. Handle does not
// keep msg.
//
// Once the AP-REQ is accepted, every answer is an AP-REP and a KRB-PRIV
// sealed in the authenticator's subkey, so the client can trust the result
// (MIT's kadmind does the same; RFC 3244 also allows a KRB-ERROR when the
// KRB-PRIV does not decode). Before that, the answer is a KRB-ERROR whose
// e-data holds the result: framed with an empty AP-REP for version 1,
// bare for RFC 3244 requests (RFC 3244 §2, "Reply Message").
func (s *Server) Handle(ctx context.Context, msg []byte, addr string) []byte {
	s.init()
	if len(msg) == 0 {
		return nil
	}
	r := &request{addr: addr}
	res, ref := s.handle(ctx, r, msg)
	if ref != nil {
		res = Result{Code: ref.code, Message: ref.msg}
	}
	s.emit(r, res)
	if r.acc == nil {
		return s.errorReply(r, ref)
	}
	reply, err := s.privReply(r, res)
	if err != nil {
		s.log.Error("kpasswd: cannot build reply", "err", err)
		return s.errorReply(r, refuse(HardError, "the server could not build its reply"))
	}
	return reply
}

// handle does the work of Handle; r collects what it learns.
func (s *Server) handle(ctx context.Context, r *request, msg []byte) (Result, *refusal) {
	if s.Directory == nil || s.acc == nil {
		return Result{}, refuse(HardError, "the password service is not configured")
	}
	snap, err := s.Directory.Snapshot(ctx)
	if err != nil {
		s.log.Error("kpasswd: directory", "err", err)
		return Result{}, refuse(HardError, "the directory is unavailable; try again later")
	}
	r.realm = snap.Domain().Realm

	m, err := ParseMessage(msg)
	if err != nil {
		why := "the request does not decode"
		var me *malformedError
		if errors.As(err, &me) {
			why = me.why
		}
		ref := refuse(Malformed, "%s", why)
		ref.krbCode = krb5.KRBAPErrModified
		return Result{}, ref
	}
	r.version = m.Version
	switch m.Version {
	case VersionChange:
		r.op = "change"
	case VersionSet:
		r.op = "set"
	default:
		ref := refuse(BadVersion, "protocol version %#04x is not supported: use 0x0001 (change) or 0xff80 (set, RFC 3244)", m.Version)
		ref.krbCode = krb5.KDCErrBadPVNO
		return Result{}, ref
	}
	if len(m.AP) == 0 || len(m.Body) == 0 {
		ref := refuse(Malformed, "a request needs an AP-REQ and a KRB-PRIV")
		ref.krbCode = krb5.KRBAPErrModified
		return Result{}, ref
	}

	acc, err := s.acc.Accept(m.AP)
	if err != nil {
		s.log.Debug("kpasswd: AP-REQ refused", "addr", r.addr, "err", err)
		ref := refuse(AuthError, "the AP-REQ was refused: %s", apReason(err, r.realm))
		ref.krbCode = service.Code(err)
		return Result{}, ref
	}
	r.client = acc.Client.String()
	if !isChangepw(acc.Server, r.realm) {
		ref := refuse(AuthError, "the ticket is for %s, not kadmin/changepw@%s: ask the KDC for kadmin/changepw", acc.Server, r.realm)
		ref.krbCode = krb5.KRBAPErrNotUs
		return Result{}, ref
	}
	// From here on the reply is sealed for the client.
	r.acc = acc
	var seq [4]byte
	if _, err := io.ReadFull(s.rand(), seq[:]); err != nil {
		r.acc = nil
		s.log.Error("kpasswd: random source", "err", err)
		return Result{}, refuse(HardError, "the server has no randomness; try again later")
	}
	// Keep the two top bits clear, as MIT does, for old Heimdal peers that
	// read a sequence number as signed.
	r.seq = binary.BigEndian.Uint32(seq[:]) & 0x3fffffff

	if acc.Subkey == nil {
		return Result{}, refuse(Malformed, "the authenticator has no subkey; RFC 3244 section 2 requires one")
	}
	priv, err := wire.ParseKRBPriv(m.Body)
	if err != nil {
		return Result{}, refuse(Malformed, "the KRB-PRIV does not decode: %v", err)
	}
	if priv.EncPart.EType != acc.Subkey.EncType() {
		return Result{}, refuse(AuthError, "the KRB-PRIV is sealed with %v, not with the subkey (%v)", priv.EncPart.EType, acc.Subkey.EncType())
	}
	plain, err := acc.Subkey.Decrypt(krb5.UsageKRBPrivEncPart, priv.EncPart.Cipher)
	if err != nil {
		return Result{}, refuse(AuthError, "the KRB-PRIV does not decrypt with the authenticator's subkey")
	}
	part, err := wire.ParseEncKRBPrivPart(plain)
	if err != nil {
		return Result{}, refuse(Malformed, "the KRB-PRIV does not decode: %v", err)
	}
	// MIT's kpasswd sends no sequence number in the authenticator and
	// none in the KRB-PRIV (its encoder omits a sequence number of 0): an
	// absent number counts as 0, as in MIT's krb5_rd_req and krb5_rd_priv.
	// The KRB-PRIV is sealed in this authenticator's fresh subkey anyway.
	if seqOrZero(part.SeqNumber) != seqOrZero(acc.Authenticator.SeqNumber) {
		return Result{}, refuse(Malformed, "the KRB-PRIV's sequence number does not match the authenticator's (RFC 3244 section 2)")
	}

	password := part.UserData
	var target *krb5.Principal
	if m.Version == VersionSet {
		cd, err := wire.ParseChangePasswdData(part.UserData)
		if err != nil {
			return Result{}, refuse(Malformed, "the ChangePasswdData does not decode: %v", err)
		}
		password = cd.NewPasswd
		if cd.TargName != nil {
			t := krb5.Principal{Name: *cd.TargName, Realm: cd.TargRealm}
			if t.Realm == "" {
				t.Realm = acc.Client.Realm
			}
			target = &t
		}
	}
	return s.setPassword(ctx, r, snap, target, password)
}

// setPassword applies the change: target nil (or the client itself) changes
// the client's own password, which needs an INITIAL ticket; another target
// is set with the client's rights.
func (s *Server) setPassword(ctx context.Context, r *request, snap *directory.Snapshot, target *krb5.Principal, password []byte) (Result, *refusal) {
	if c, ok := s.sink.(audit.Checker); ok && s.RefuseUnaudited && c.Failing() != nil {
		return Result{}, refuse(SoftError, "no password is changed while the audit log cannot be written; try again later")
	}
	acc := r.acc
	if !acc.Client.Realm.Equal(r.realm) {
		return Result{}, refuse(AccessDenied, "%s is not an account of %s; change its password in its own realm", acc.Client, r.realm)
	}
	client, ok := snap.Lookup(acc.Client.Name, acc.Client.Realm)
	if !ok {
		return Result{}, refuse(AccessDenied, "%s has no account in %s", acc.Client, r.realm)
	}
	name := client.Name
	self := true
	if target != nil {
		r.target = target.String()
		if !target.Realm.Equal(r.realm) {
			return Result{}, refuse(HardError, "%s is not in %s: this server sets passwords of %s accounts only", target, r.realm, r.realm)
		}
		t, ok := snap.Lookup(target.Name, target.Realm)
		if !ok {
			return Result{}, refuse(HardError, "there is no account %s in %s", target, r.realm)
		}
		name = t.Name
		self = strings.EqualFold(t.Name, client.Name)
	}
	if r.target == "" {
		r.target = acc.Client.String()
	}
	if self {
		r.op = "change"
	}
	if !utf8.Valid(password) || bytes.IndexByte(password, 0) >= 0 {
		return Result{}, refuse(SoftError, "the new password is not valid UTF-8 text without NUL characters")
	}
	actor := directory.Actor{Name: client.Name}
	if self {
		// RFC 3244 §2: a change of one's own password needs a ticket
		// obtained with the old one, not one from a TGT.
		if acc.Ticket == nil || acc.Ticket.Flags&krb5.TktInitial == 0 {
			return Result{}, refuse(InitialFlagNeeded, "changing your own password needs an INITIAL ticket for kadmin/changepw, obtained with your current password (kpasswd does that), not one from a TGT")
		}
		actor.Initial = true
	}
	if _, err := s.Directory.As(actor).SetPassword(ctx, name, string(password), 0); err != nil {
		return Result{}, s.directoryRefusal(err, name)
	}
	return Result{Code: Success, Message: "Password changed."}, nil
}

// seqOrZero is a sequence number, 0 when absent.
func seqOrZero(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}

// directoryRefusal maps a directory error to a result, keeping the
// directory's plain-words reason (the user message of [directory.Error]).
// Any other failure is the server's to log: the client learns only that
// the change failed.
func (s *Server) directoryRefusal(err error, account string) *refusal {
	var de *directory.Error
	if !errors.As(err, &de) || de.Msg == "" {
		s.log.Error("kpasswd: set password", "account", account, "err", err)
		return refuse(HardError, "the password of %s could not be set: the directory failed; try again later, or ask the domain administrator to read the password server's log", account)
	}
	msg := de.Msg
	switch {
	case errors.Is(err, directory.ErrPolicy):
		return refuse(SoftError, "%s", msg)
	case errors.Is(err, directory.ErrAccessDenied):
		return refuse(AccessDenied, "%s", msg)
	case errors.Is(err, directory.ErrNotFound):
		return refuse(HardError, "there is no account %s: %s", account, msg)
	}
	return refuse(HardError, "the password of %s could not be set: %s", account, msg)
}

// apReason says in words why an AP-REQ was refused, from its KRB-ERROR
// code only: the Acceptor's detailed text is for the server's log (it may
// name keys and versions), and the client learns no more than the code
// tells it anyway.
func apReason(err error, realm krb5.Realm) string {
	code := service.Code(err)
	var why string
	switch code {
	case krb5.KRBAPErrSkew:
		why = "the client's clock differs from the server's by more than the allowed skew; correct the clock"
	case krb5.KRBAPErrTktExpired:
		why = "the ticket has expired; get a new one"
	case krb5.KRBAPErrTktNYV:
		why = "the ticket is not valid yet"
	case krb5.KRBAPErrRepeat:
		why = "the request is a replay of an earlier one; send a new request"
	case krb5.KRBAPErrNotUs:
		why = "the ticket is not for kadmin/changepw@" + string(realm)
	case krb5.KRBAPErrBadKeyVer, krb5.KRBAPErrNoKey:
		why = "the ticket is sealed in a key this server does not hold (it may predate a key change); get a new ticket"
	case krb5.KRBAPErrBadMatch:
		why = "the authenticator and the ticket name different clients"
	case krb5.KRBAPErrMethod:
		why = "user-to-user authentication is not offered"
	default:
		why = "the ticket or the authenticator could not be verified"
	}
	return fmt.Sprintf("%s (%s)", why, code.String())
}

// isChangepw reports whether p is kadmin/changepw@realm.
func isChangepw(p krb5.Principal, realm krb5.Realm) bool {
	c := p.Name.Components
	return len(c) == 2 && strings.EqualFold(c[0], "kadmin") && strings.EqualFold(c[1], "changepw") && p.Realm.Equal(realm)
}

// changepw is the server's principal, for KRB-ERROR messages.
func changepw(realm krb5.Realm) krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "kadmin", "changepw"), Realm: realm}
}

// directional is the sender address of the server's KRB-PRIV: the
// directional address of the acceptor (RFC 4120 §8.1), which MIT's kadmind
// also uses when it does not know its own address. Neither MIT's nor
// Heimdal's client checks it (they set no remote address).
var directional = wire.HostAddress{Type: krb5.AddrDirectional, Address: []byte{0, 0, 0, 1}}

// privReply builds AP-REP + KRB-PRIV(result).
func (s *Server) privReply(r *request, res Result) ([]byte, error) {
	acc := r.acc
	apRep, err := acc.APRep(acc.Subkey, &r.seq)
	if err != nil {
		return nil, err
	}
	key := acc.Key()
	seq := r.seq
	addr := directional
	part := wire.EncKRBPrivPart{UserData: res.Marshal(), SeqNumber: &seq, SAddress: &addr}
	plain, err := part.Marshal()
	if err != nil {
		return nil, err
	}
	cipher, err := key.Encrypt(s.rand(), krb5.UsageKRBPrivEncPart, plain)
	if err != nil {
		return nil, err
	}
	priv, err := (&wire.KRBPriv{EncPart: wire.EncryptedData{EType: key.EncType(), Cipher: cipher}}).Marshal()
	if err != nil {
		return nil, err
	}
	return (&Message{Version: VersionChange, AP: apRep, Body: priv}).Marshal()
}

// errorReply builds the KRB-ERROR answer to a request refused before a key
// was established.
func (s *Server) errorReply(r *request, ref *refusal) []byte {
	now := s.now().UTC()
	e := wire.KRBError{
		STime:     now.Truncate(time.Second),
		Susec:     int32(now.Nanosecond() / 1000),
		ErrorCode: ref.krbCode,
		Realm:     r.realm,
		SName:     changepw(r.realm).Name,
		EData:     Result{Code: ref.code, Message: ref.msg}.Marshal(),
	}
	if e.Realm == "" {
		e.Realm = "UNKNOWN"
	}
	b, err := e.Marshal()
	if err != nil {
		s.log.Error("kpasswd: cannot build KRB-ERROR", "err", err)
		return nil
	}
	if r.version == VersionSet {
		return b // RFC 3244: "sent back without any encapsulation"
	}
	out, err := (&Message{Version: VersionChange, Body: b}).Marshal()
	if err != nil {
		return nil
	}
	return out
}

// emit records the request in the audit log.
func (s *Server) emit(r *request, res Result) {
	typ := "kpasswd.request"
	if r.op != "" {
		typ = "kpasswd." + r.op
	}
	e := audit.Event{
		Time:   s.now(),
		Type:   typ,
		Client: r.client,
		Addr:   r.addr,
		Code:   res.Code.String(),
		Target: r.target,
	}
	if r.realm != "" {
		e.Service = changepw(r.realm).String()
	}
	if res.Code != Success {
		e.Reason = res.Message
	}
	if r.acc != nil && r.acc.Subkey != nil {
		e.EType = r.acc.Subkey.EncType().String()
	}
	s.sink.Emit(e)
}
