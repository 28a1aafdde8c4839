package kpasswd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// This file holds the client side: build a request from a kadmin/changepw
// ticket, send it, and check the reply as MIT's krb5_change_password and
// krb5_set_password do.

// ErrBadReply is wrapped by the errors about replies the client rejects
// (it does not verify, or does not parse).
var ErrBadReply = errors.New("kpasswd: unacceptable reply from the password server")

// Client sends change- and set-password requests. Its zero value is ready
// to use: TCP, a 10-second timeout, time.Now and crypto/rand.
type Client struct {
	// Network is "tcp" (the default) or "udp". MIT's kpasswd tries TCP
	// first: a retransmitted UDP request is a replay to the server.
	Network string
	// Timeout bounds one exchange; default 10s.
	Timeout time.Duration
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Change changes the password of cred's client to newPassword with the
// original protocol (version 1), as MIT's kpasswd does. cred must be a
// ticket for kadmin/changepw obtained with the current password (an INITIAL
// ticket). The error is nil whenever the server answered, whatever the
// result: see Result.Err.
func Change(ctx context.Context, addr string, cred *client.Credential, newPassword string) (Result, error) {
	return (&Client{}).Change(ctx, addr, cred, newPassword)
}

// Set sets the password of target to newPassword with RFC 3244's
// set-password protocol, with the rights of cred's client. cred is a ticket
// for kadmin/changepw.
func Set(ctx context.Context, addr string, cred *client.Credential, target krb5.Principal, newPassword string) (Result, error) {
	return (&Client{}).Set(ctx, addr, cred, target, newPassword)
}

// Change is the package-level Change with c's settings.
func (c *Client) Change(ctx context.Context, addr string, cred *client.Credential, newPassword string) (Result, error) {
	return c.exchange(ctx, addr, cred, VersionChange, []byte(newPassword))
}

// Set is the package-level Set with c's settings.
func (c *Client) Set(ctx context.Context, addr string, cred *client.Credential, target krb5.Principal, newPassword string) (Result, error) {
	name := target.Name
	data, err := (&wire.ChangePasswdData{NewPasswd: []byte(newPassword), TargName: &name, TargRealm: target.Realm}).Marshal()
	if err != nil {
		return Result{}, fmt.Errorf("kpasswd: %w", err)
	}
	return c.exchange(ctx, addr, cred, VersionSet, data)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

// session is the client's state of one exchange.
type session struct {
	cred   *client.Credential
	subkey *crypto.Key
	seq    uint32
	ctime  time.Time
	cusec  int32
}

func (c *Client) exchange(ctx context.Context, addr string, cred *client.Credential, version uint16, userData []byte) (Result, error) {
	if cred == nil || cred.SessionKey == nil {
		return Result{}, errors.New("kpasswd: no credential for kadmin/changepw")
	}
	if !isChangepw(cred.Server, cred.Server.Realm) {
		return Result{}, fmt.Errorf("kpasswd: the credential is for %s; a ticket for kadmin/changepw is needed", cred.Server)
	}
	req, ss, err := c.request(cred, version, userData)
	if err != nil {
		return Result{}, err
	}
	reply, err := c.roundTrip(ctx, addr, req)
	if err != nil {
		return Result{}, err
	}
	return ss.readReply(reply)
}

// request builds the request: an AP-REQ whose authenticator carries a fresh
// subkey and sequence number, and a KRB-PRIV of userData sealed in the
// subkey with the same sequence number (RFC 3244 §2).
func (c *Client) request(cred *client.Credential, version uint16, userData []byte) ([]byte, *session, error) {
	subkey, err := crypto.RandomKey(cred.SessionKey.EncType(), c.rand())
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: subkey: %w", err)
	}
	var sb [4]byte
	if _, err := io.ReadFull(c.rand(), sb[:]); err != nil {
		return nil, nil, fmt.Errorf("kpasswd: random: %w", err)
	}
	now := c.now().UTC()
	ss := &session{
		cred:   cred,
		subkey: subkey,
		seq:    binary.BigEndian.Uint32(sb[:]) & 0x3fffffff,
		ctime:  now.Truncate(time.Second),
		cusec:  int32(now.Nanosecond() / 1000),
	}
	seq := ss.seq
	auth := wire.Authenticator{
		CRealm:    cred.Client.Realm,
		CName:     cred.Client.Name,
		Cusec:     ss.cusec,
		CTime:     ss.ctime,
		SubKey:    &wire.EncryptionKey{Type: subkey.EncType(), Value: subkey.Material()},
		SeqNumber: &seq,
	}
	plain, err := auth.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	encAuth, err := cred.SessionKey.Encrypt(c.rand(), krb5.UsageAPReqAuthenticator, plain)
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	apReq, err := (&wire.APReq{
		Options:       krb5.APMutualRequired,
		Ticket:        cred.Ticket,
		Authenticator: wire.EncryptedData{EType: cred.SessionKey.EncType(), Cipher: encAuth},
	}).Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	// The sender address: the initiator's directional address (RFC 4120
	// §8.1), which works behind NAT; servers do not check it.
	part := wire.EncKRBPrivPart{UserData: userData, SeqNumber: &seq,
		SAddress: &wire.HostAddress{Type: krb5.AddrDirectional, Address: []byte{0, 0, 0, 0}}}
	if plain, err = part.Marshal(); err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	encPriv, err := subkey.Encrypt(c.rand(), krb5.UsageKRBPrivEncPart, plain)
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	priv, err := (&wire.KRBPriv{EncPart: wire.EncryptedData{EType: subkey.EncType(), Cipher: encPriv}}).Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("kpasswd: %w", err)
	}
	msg, err := (&Message{Version: version, AP: apReq, Body: priv}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	return msg, ss, nil
}

// readReply checks a reply: a KRB-ERROR (framed or bare) yields the result in
// its e-data; otherwise the AP-REP must decrypt in the session key and echo
// the authenticator's time, and the KRB-PRIV must decrypt in the subkey and
// carry the AP-REP's sequence number.
func (ss *session) readReply(b []byte) (Result, error) {
	if len(b) > 0 && b[0] == 0x7e { // [APPLICATION 30]: a bare KRB-ERROR
		return errorResult(b)
	}
	m, err := ParseMessage(b)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if m.Version != VersionChange && m.Version != VersionSet {
		return Result{}, fmt.Errorf("%w: protocol version %#04x", ErrBadReply, m.Version)
	}
	if len(m.AP) == 0 {
		return errorResult(m.Body)
	}
	rep, err := wire.ParseAPRep(m.AP)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	plain, err := ss.cred.SessionKey.Decrypt(krb5.UsageAPRepEncPart, rep.EncPart.Cipher)
	if err != nil {
		return Result{}, fmt.Errorf("%w: the AP-REP does not decrypt with the session key", ErrBadReply)
	}
	ep, err := wire.ParseEncAPRepPart(plain)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !ep.CTime.Equal(ss.ctime) || ep.Cusec != ss.cusec {
		return Result{}, fmt.Errorf("%w: the AP-REP does not echo the authenticator's time", ErrBadReply)
	}
	// The reply is sealed in the client's subkey, whatever subkey the
	// AP-REP names (MIT's client does the same, RFC 3244 §2).
	priv, err := wire.ParseKRBPriv(m.Body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	plain, err = ss.subkey.Decrypt(krb5.UsageKRBPrivEncPart, priv.EncPart.Cipher)
	if err != nil {
		return Result{}, fmt.Errorf("%w: the KRB-PRIV does not decrypt with the subkey", ErrBadReply)
	}
	part, err := wire.ParseEncKRBPrivPart(plain)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if seqOrZero(part.SeqNumber) != seqOrZero(ep.SeqNumber) {
		return Result{}, fmt.Errorf("%w: the KRB-PRIV's sequence number does not match the AP-REP's", ErrBadReply)
	}
	res, err := ParseResult(part.UserData)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	return res, nil
}

// errorResult reads the result from a KRB-ERROR's e-data. A KRB-ERROR never
// carries success (RFC 3244 §2).
func errorResult(b []byte) (Result, error) {
	e, err := wire.ParseKRBError(b)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if len(e.EData) == 0 {
		return Result{}, fmt.Errorf("%w: KRB-ERROR %v without a result: %s", ErrBadReply, e.ErrorCode, e.EText)
	}
	res, err := ParseResult(e.EData)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if res.Code == Success {
		return Result{}, fmt.Errorf("%w: a KRB-ERROR claims success", ErrBadReply)
	}
	return res, nil
}

// roundTrip sends req to addr and returns the reply.
func (c *Client) roundTrip(ctx context.Context, addr string, req []byte) ([]byte, error) {
	network := c.Network
	if network == "" {
		network = "tcp"
	}
	if network != "tcp" && network != "udp" {
		return nil, fmt.Errorf("kpasswd: unknown network %q (use tcp or udp)", network)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("kpasswd: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if network == "udp" {
		if _, err := conn.Write(req); err != nil {
			return nil, fmt.Errorf("kpasswd: send to %s: %w", addr, err)
		}
		buf := make([]byte, MaxMessageSize+1)
		n, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("kpasswd: no reply from %s: %w", addr, err)
		}
		return buf[:n], nil
	}
	out := make([]byte, 4+len(req))
	binary.BigEndian.PutUint32(out, uint32(len(req)))
	copy(out[4:], req)
	if _, err := conn.Write(out); err != nil {
		return nil, fmt.Errorf("kpasswd: send to %s: %w", addr, err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, fmt.Errorf("kpasswd: no reply from %s: %w", addr, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxMessageSize {
		return nil, fmt.Errorf("%w: reply length %d", ErrBadReply, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, fmt.Errorf("kpasswd: reading the reply from %s: %w", addr, err)
	}
	return buf, nil
}
