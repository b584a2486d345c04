package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"strings"
)

// LeafVersion opens every leaf's encoding; a later encoding would get
// another.
const LeafVersion = "anzhi-log-entry/v1"

// Entry is one entry of the canonical log as JetStream stores it: its
// stream sequence, subject, headers and exact body.
type Entry struct {
	Seq     uint64
	Subject string
	Header  map[string][]string
	Data    []byte
}

// skipHeader reports whether a header is left out of the leaf: those whose
// name starts with "Nats-" (compared without case) are JetStream's own
// (Nats-Expected-Last-Sequence and the like), which the server may add,
// strip or rewrite as it stores a message. The hub keeps none of a
// department's: every header a fact or record carries is covered.
func skipHeader(name string) bool {
	return len(name) >= 5 && strings.EqualFold(name[:5], "nats-")
}

// LeafData is the canonical encoding of an entry, the leaf of the tree:
//
//	"anzhi-log-entry/v1" 0x00
//	seq                     uint64, big-endian
//	len(subject) subject    uint32 big-endian length, then the bytes
//	count                   uint32: header fields kept (one per value)
//	count × (len(name) name len(value) value), sorted by name (bytewise),
//	                        a name's values in their stored order
//	len(data) data          uint32 length, then the exact body
//
// Header names are kept as stored (case and all); names starting with
// "Nats-" are left out (see skipHeader).
func LeafData(e Entry) []byte {
	var b []byte
	encodeLeaf(e, func(p []byte) { b = append(b, p...) })
	return b
}

// LeafHash is the RFC 6962 leaf hash of an entry: SHA-256 of 0x00 followed
// by LeafData(e). It writes the encoding straight into the hash.
func LeafHash(e Entry) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	encodeLeaf(e, func(p []byte) { h.Write(p) })
	return h.Sum(nil)
}

// LeafHasher computes leaf hashes reusing its buffers; it is not safe for
// concurrent use.
type LeafHasher struct {
	h     hash.Hash
	names []string
}

// Hash returns the leaf hash of e (as LeafHash) appended to dst.
func (l *LeafHasher) Hash(dst []byte, e Entry) []byte {
	if l.h == nil {
		l.h = sha256.New()
	}
	l.h.Reset()
	l.h.Write([]byte{0})
	l.names = encodeLeafNames(e, l.names[:0], func(p []byte) { l.h.Write(p) })
	return l.h.Sum(dst)
}

func encodeLeaf(e Entry, w func([]byte)) { encodeLeafNames(e, nil, w) }

func encodeLeafNames(e Entry, names []string, w func([]byte)) []string {
	var n [8]byte
	w([]byte(LeafVersion))
	w([]byte{0})
	binary.BigEndian.PutUint64(n[:], e.Seq)
	w(n[:8])
	writeBytes := func(s []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s)))
		w(n[:4])
		w(s)
	}
	writeBytes([]byte(e.Subject))
	count := 0
	for k, vs := range e.Header {
		if !skipHeader(k) {
			names = append(names, k)
			count += len(vs)
		}
	}
	slices.Sort(names)
	binary.BigEndian.PutUint32(n[:4], uint32(count))
	w(n[:4])
	for _, k := range names {
		for _, v := range e.Header[k] {
			writeBytes([]byte(k))
			writeBytes([]byte(v))
		}
	}
	writeBytes(e.Data)
	return names
}
