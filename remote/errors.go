package remote

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
	"hop/krb5/tickets"
)

// Error is a failure a user can act on: Msg says, in one line, what failed
// and what to do; Err is the cause, if any.
type Error struct {
	Host string
	Msg  string
	Err  error
}

// Error returns the message on one printable line: Msg may quote what
// the host or the network sent (a disconnect reason, a channel
// rejection), which must not reach the user's terminal as control
// characters.
func (e *Error) Error() string {
	s := e.Msg
	if e.Host != "" {
		s = e.Host + ": " + e.Msg
	}
	return printable(s, maxErrorLen)
}

// maxErrorLen bounds an Error's message.
const maxErrorLen = 4096

func (e *Error) Unwrap() error { return e.Err }

// ErrRefused is wrapped by the error of a login the agent refused after
// authenticating the user (Dial), with the agent's reason when it sent one.
var ErrRefused = errors.New("remote: the agent refused the login")

// ErrEndpoint is wrapped by the error of a session whose endpoint the agent
// refused (it does not exist or the user may not use it).
var ErrEndpoint = errors.New("remote: endpoint refused")

// ticketError explains why there is no service ticket for host/<host>.
func ticketError(host string, err error) error {
	var kerr *client.Error
	var berr *tickets.BrokerError
	switch {
	case errors.As(err, &berr):
		// In a hop session: the session's broker says why and what to do.
		return &Error{Host: host, Msg: berr.Error(), Err: err}
	case errors.Is(err, tickets.ErrExpired):
		return &Error{Host: host, Msg: "your ticket expired: run hop login", Err: err}
	case errors.Is(err, tickets.ErrNoTicket):
		return &Error{Host: host, Msg: "you have no Kerberos ticket: run hop login (or kinit)", Err: err}
	case errors.As(err, &kerr):
		switch kerr.Code {
		case krb5.KRBAPErrTktExpired:
			return &Error{Host: host, Msg: "your ticket expired: run hop login", Err: err}
		case krb5.KRBAPErrSkew:
			return &Error{Host: host, Msg: "this computer's clock and the KDC's differ by more than the allowed skew (5 minutes): set the time (NTP) and retry", Err: err}
		case krb5.KDCErrSPrincipalUnknown:
			return &Error{Host: host, Msg: "the domain knows no host of that name (no principal host/" + host + "): check the name, or join the host (hop host join)", Err: err}
		case krb5.KDCErrClientRevoked, krb5.KDCErrTGTRevoked:
			return &Error{Host: host, Msg: "your account is disabled or locked, or your ticket was revoked: ask a domain admin, then run hop login", Err: err}
		}
		return &Error{Host: host, Msg: "the KDC refused a ticket for host/" + host + ": " + err.Error(), Err: err}
	}
	return &Error{Host: host, Msg: "no ticket for host/" + host + ": " + err.Error(), Err: err}
}

// connectError explains a failed TCP connection to addr; from says where
// addr was set (Options.AddressFrom).
func connectError(host, addr, from string, timeout time.Duration, err error) error {
	var dns *net.DNSError
	where := ""
	if from != "" {
		where = " (" + from + ")"
	}
	switch {
	case errors.As(err, &dns):
		return &Error{Host: host, Msg: fmt.Sprintf("unknown host: DNS has no address for %s; check the name (or give the address with agent_address in krb5.conf's [hop] section)", dns.Name), Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		if from == "" {
			where = " (--port, or agent_port in krb5.conf's [hop] section)"
		}
		return &Error{Host: host, Msg: fmt.Sprintf("nothing listens on %s: is hop agent running there, on that port?%s", addr, where), Err: err}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &Error{Host: host, Msg: fmt.Sprintf("%s is unreachable: check the network and the address%s", addr, where), Err: err}
	case isTimeout(err):
		return &Error{Host: host, Msg: fmt.Sprintf("no answer from %s within %s: check the address and firewalls%s", addr, timeout, where), Err: err}
	}
	return &Error{Host: host, Msg: fmt.Sprintf("cannot connect to %s%s: %v", addr, where, err), Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handshakeError explains a failed SSH handshake or login; banners are
// what the agent sent before refusing.
func handshakeError(host, addr string, banners []string, err error) error {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return &Error{Host: host, Msg: hk.Error(), Err: hk}
	}
	var krbErr *gssapi.KRBError
	if errors.As(err, &krbErr) {
		switch krbErr.Msg.ErrorCode {
		case krb5.KRBAPErrSkew:
			return &Error{Host: host, Msg: "this computer's clock and the host's differ by more than the allowed skew (5 minutes): set the time (NTP) on both", Err: err}
		case krb5.KRBAPErrTktExpired:
			return &Error{Host: host, Msg: "your ticket expired: run hop login", Err: err}
		}
		return &Error{Host: host, Msg: "the host refused your Kerberos ticket (" + krbErr.Msg.ErrorCode.String() + ")", Err: err}
	}
	if errors.Is(err, gssapi.ErrMutualFailed) {
		return &Error{Host: host, Msg: "the host could not prove it holds the host key of host/" + host + " (mutual authentication failed): its keytab may be stale (re-join it: hop host join) or someone is in the middle; not connecting", Err: err}
	}
	if reason := bannerText(banners); reason != "" {
		return &Error{Host: host, Msg: reason, Err: fmt.Errorf("%w: %w", ErrRefused, err)}
	}
	// x/crypto/ssh's client has no typed error for "every method was
	// refused"; its text is the only signal.
	if strings.Contains(err.Error(), "unable to authenticate") {
		return &Error{Host: host, Msg: "the host refused your Kerberos login without a reason: check that both clocks are right, that the host's keytab is current (hop host join) and that you may log on there", Err: fmt.Errorf("%w: %w", ErrRefused, err)}
	}
	return &Error{Host: host, Msg: fmt.Sprintf("SSH connection to %s failed: %v", addr, err), Err: err}
}

// maxReason bounds the refusal text taken from a banner.
const maxReason = 512

// Bounds on the banners Dial keeps: how many, and the bytes of each.
const (
	maxBanners   = 16
	maxBannerLen = 4096
)

// bannerLines makes a banner the host sent with a successful login safe
// to print: its lines (CR LF, LF or CR ended), each without control or
// invalid characters, each ended by a newline.
func bannerLines(banner string) string {
	banner = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(banner)
	var b strings.Builder
	for _, l := range strings.SplitAfter(banner, "\n") {
		if l == "" {
			continue
		}
		b.WriteString(printable(strings.TrimSuffix(l, "\n"), maxBannerLen))
		b.WriteByte('\n')
	}
	return b.String()
}

// bannerText makes the agent's banners one printable line.
func bannerText(banners []string) string {
	s := strings.Join(banners, " ")
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.Join(strings.Fields(printable(s, maxReason)), " ")
}
