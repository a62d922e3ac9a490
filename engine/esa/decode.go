package esa

import (
	"strconv"
	"strings"
)

// Decoder turns stream lines into Messages. It is a hand-written scanner
// over the line's bytes: no reflection, no maps of interfaces, and nothing
// allocated per price level, so that decoding keeps up with a whole day of
// historic files on one core. A Decoder keeps scratch buffers between calls
// and is not safe for concurrent use; use one per goroutine.
type Decoder struct {
	b []byte // the line being decoded
	i int    // read position in b

	// shallow makes mc/oc elements keep only their id and raw bytes (see
	// DecodeShallow).
	shallow bool

	keyBuf []byte // unescaped member names
	tmpBuf []byte // unescaped strings that are copied or parsed at once
	strBuf []byte // unescaped strings the Message aliases until the next call

	intern map[string]string
	stack  []byte // open brackets while skipping an unknown value

	// Scratch slices a market definition is assembled in before being
	// copied, at its exact size, into memory the definition owns.
	runners []RunnerDefinition
	strs    []string
	kl      []KeyLineSelection
}

// NewDecoder returns a Decoder ready for use.
func NewDecoder() *Decoder {
	return &Decoder{intern: make(map[string]string, 256)}
}

// SyntaxError is returned by Decode for a line it cannot decode: malformed
// JSON, or a known key holding a value of the wrong type.
type SyntaxError struct {
	// Offset is the byte offset in the line where the problem was found.
	Offset int
	// Path names the key being decoded, such as "mc[0].rc[3].atb"; empty
	// for a problem outside any known key.
	Path string
	// Msg says what was expected.
	Msg string
}

// Error reports the path, what was expected and where.
func (e *SyntaxError) Error() string {
	if e.Path == "" {
		return "esa: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
	}
	return "esa: " + e.Path + ": " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// errf reports msg at the current position (after whitespace).
func (d *Decoder) errf(msg string) error {
	d.ws()
	return d.errAt(d.i, msg)
}

func (d *Decoder) errAt(off int, msg string) error {
	switch {
	case off >= len(d.b):
		msg += ", found end of line"
	case d.b[off] >= ' ' && d.b[off] < 0x7f:
		msg += ", found '" + string(d.b[off]) + "'"
	default:
		msg += ", found byte 0x" + strconv.FormatUint(uint64(d.b[off]), 16)
	}
	return &SyntaxError{Offset: off, Msg: msg}
}

// inKey prefixes the path of a SyntaxError with the key it happened in.
// It runs only on the error path, so building strings here costs nothing
// on lines that decode.
func inKey(err error, key []byte) error {
	if se, ok := err.(*SyntaxError); ok {
		switch {
		case se.Path == "":
			se.Path = string(key)
		case se.Path[0] == '[':
			se.Path = string(key) + se.Path
		default:
			se.Path = string(key) + "." + se.Path
		}
	}
	return err
}

// inIndex prefixes the path of a SyntaxError with an array index.
func inIndex(err error, i int) error {
	if se, ok := err.(*SyntaxError); ok {
		var sb strings.Builder
		sb.WriteByte('[')
		sb.WriteString(strconv.Itoa(i))
		sb.WriteByte(']')
		if se.Path != "" && se.Path[0] != '[' {
			sb.WriteByte('.')
		}
		sb.WriteString(se.Path)
		se.Path = sb.String()
	}
	return err
}

// Decode decodes one stream line into m, which is reset first; its slices
// (and the slices nested in their elements) are reused, so decoding into
// the same Message again and again allocates nothing but the market
// definitions and orders it meets. Leading and trailing whitespace is
// ignored and the object may span several lines (pretty-printed files).
//
// For "rcm" and "ccm" lines Decode sets only m.Op and returns nil without
// decoding the rest. Unknown keys are skipped whatever they hold.
func (d *Decoder) Decode(line []byte, m *Message) error {
	d.shallow = false
	return d.decode(line, m)
}

// DecodeShallow decodes the line's own fields (op, clocks, pt, ct, ...) and,
// for each element of mc or oc, only its id and Raw bytes. It is the cheap
// way to route a line: a recorder splits a live message into one tape line
// per market from the Raw bytes without decoding or re-encoding them. The
// inside of an element is only bracket-counted, not validated: a line that
// Decode accepts is always accepted, but not the other way round.
func (d *Decoder) DecodeShallow(line []byte, m *Message) error {
	d.shallow = true
	return d.decode(line, m)
}

func (d *Decoder) decode(line []byte, m *Message) error {
	m.Reset()
	d.b, d.i = line, 0
	d.strBuf = d.strBuf[:0]
	if !d.shallow && d.fastMessage(m) {
		d.b = nil
		return nil
	}
	m.Reset()
	d.i = 0
	err := d.message(m)
	if err == nil && d.peek() != 0 {
		err = d.errf("unexpected data after the object")
	}
	d.b = nil // do not keep the caller's line alive
	return err
}

// message decodes the top-level object.
func (d *Decoder) message(m *Message) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "op":
			var s []byte
			if s, err = d.tmpStr(); err == nil {
				m.Op = parseOp(s)
				if m.Op == OpRCM || m.Op == OpCCM {
					// Not decoded: the rest of the line is left
					// unread and only Op is set, wherever "op" was.
					op := m.Op
					m.Reset()
					m.Op = op
					d.i = len(d.b)
					return nil
				}
			}
		case "id":
			m.ID, err = d.int64()
			m.HasID = err == nil
		case "clk":
			m.Clk, err = d.clock()
		case "initialClk":
			m.InitialClk, err = d.clock()
		case "pt":
			m.Pt, err = d.int64()
		case "ct":
			var s []byte
			if s, err = d.tmpStr(); err == nil {
				m.Ct = parseChangeType(s)
			}
		case "con":
			m.Con, err = d.boolean()
		case "segmentType":
			var s []byte
			if s, err = d.tmpStr(); err == nil {
				m.SegmentType = parseSegmentType(s)
			}
		case "status":
			var v int64
			v, err = d.int64()
			m.Status = int(v)
		case "heartbeatMs":
			m.HeartbeatMs, err = d.int64()
		case "conflateMs":
			m.ConflateMs, err = d.int64()
		case "mc":
			err = d.marketChanges(m)
		case "oc":
			err = d.orderChanges(m)
		case "connectionId":
			m.ConnectionID, err = d.str()
		case "statusCode":
			m.StatusCode, err = d.str()
		case "errorCode":
			m.ErrorCode, err = d.str()
		case "errorMessage":
			m.ErrorMessage, err = d.str()
		case "connectionClosed":
			m.ConnectionClosed, err = d.boolean()
		case "connectionsAvailable":
			m.ConnectionsAvailable, err = d.int64()
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}

// clock reads a clock token: a string (live, and most historic files) or a
// bare number (some historic files), kept as its bytes.
func (d *Decoder) clock() ([]byte, error) {
	if d.peek() == '"' {
		return d.str()
	}
	start := d.i
	end := numberEnd(d.b, start)
	if end == start || !validJSONNumber(d.b[start:end]) {
		return nil, d.errf("expected string or number")
	}
	d.i = end
	return d.b[start:end:end], nil
}

func parseOp(s []byte) Op {
	switch string(s) {
	case "mcm":
		return OpMCM
	case "ocm":
		return OpOCM
	case "connection":
		return OpConnection
	case "status":
		return OpStatus
	case "rcm":
		return OpRCM
	case "ccm":
		return OpCCM
	}
	return OpUnknown
}

func parseChangeType(s []byte) ChangeType {
	switch string(s) {
	case "SUB_IMAGE":
		return ChangeTypeSubImage
	case "RESUB_DELTA":
		return ChangeTypeResubDelta
	case "HEARTBEAT":
		return ChangeTypeHeartbeat
	}
	return ChangeTypeNone
}

func parseSegmentType(s []byte) SegmentType {
	switch string(s) {
	case "SEG_START":
		return SegmentStart
	case "SEG":
		return Segment
	case "SEG_END":
		return SegmentEnd
	}
	return SegmentNone
}

// PeekOp returns the op of a line by looking at its first key only, which
// is where Betfair (and every tape) puts it; OpUnknown when the line does
// not start with {"op":"...". Use Decode or DecodeShallow when in doubt.
func PeekOp(line []byte) Op {
	d := Decoder{b: line}
	if more, err := d.objStart(); !more || err != nil {
		return OpUnknown
	}
	k, err := d.key()
	if err != nil || string(k) != "op" {
		return OpUnknown
	}
	s, err := d.tmpStr()
	if err != nil {
		return OpUnknown
	}
	return parseOp(s)
}
