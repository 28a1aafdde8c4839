package gssapi

import "errors"

// Sequence errors of Unwrap and VerifyMIC (RFC 2743 §1.2.3). The first two
// refuse the token; the last two come with the message, which verified.
var (
	// ErrDuplicateToken: the token was already received (replay).
	ErrDuplicateToken = errors.New("gssapi: duplicate token (replay)")
	// ErrOldToken: the token is too old to tell whether it is a replay.
	ErrOldToken = errors.New("gssapi: token too old to check for replay")
	// ErrUnseqToken: an earlier token than the last one received
	// (with FlagSequence); the message is returned.
	ErrUnseqToken = errors.New("gssapi: token out of sequence")
	// ErrGapToken: tokens were skipped (with FlagSequence); the message is
	// returned.
	ErrGapToken = errors.New("gssapi: tokens missing before this one")
)

// seqWindow is how many sequence numbers before the newest are remembered.
const seqWindow = 64

// seqState is MIT krb5's g_seqnum_state (util_seqstate.c) with 64-bit
// sequence numbers: relative to the first expected number, the next
// expected one and a bitmap of the 64 before it.
type seqState struct {
	replay, sequence bool
	base, next       uint64
	recvmap          uint64
}

func newSeqState(first uint64, flags Flags) seqState {
	return seqState{replay: flags&FlagReplay != 0, sequence: flags&FlagSequence != 0, base: first}
}

// check records seq and reports what RFC 2743 says of it.
func (s *seqState) check(seq uint64) error {
	if !s.replay && !s.sequence {
		return nil
	}
	rel := seq - s.base
	if rel >= s.next {
		offset := rel - s.next
		if offset >= seqWindow {
			s.recvmap = 1
		} else {
			s.recvmap = s.recvmap<<(offset+1) | 1
		}
		s.next = rel + 1
		if offset > 0 && s.sequence {
			return ErrGapToken
		}
		return nil
	}
	offset := s.next - rel
	if offset > seqWindow {
		// MIT krb5 reports GSS_S_UNSEQ_TOKEN here when sequencing is on;
		// with replay detection on too, hop refuses the token, since it
		// cannot tell whether it is a replay.
		if s.replay {
			return ErrOldToken
		}
		return ErrUnseqToken
	}
	bit := uint64(1) << (offset - 1)
	if s.replay && s.recvmap&bit != 0 {
		return ErrDuplicateToken
	}
	s.recvmap |= bit
	if s.sequence {
		return ErrUnseqToken
	}
	return nil
}

// supplementary reports whether err leaves the message usable.
func supplementary(err error) bool {
	return errors.Is(err, ErrGapToken) || errors.Is(err, ErrUnseqToken)
}
