package view

import (
	"encoding/binary"
	mathbits "math/bits"
)

// personIndex finds a person by key: an open-addressing table of indices
// into the view's key slice, 4 bytes a slot instead of a Go map's ≈50 bytes
// an entry — the view must hold millions of persons in little memory.
type personIndex struct {
	slots []uint32 // person index + 1; 0 is empty
	n     int
}

func hashKey(k *[32]byte) uint64 {
	h := binary.LittleEndian.Uint64(k[0:]) ^ binary.LittleEndian.Uint64(k[8:])*0x9e3779b97f4a7c15 ^
		binary.LittleEndian.Uint64(k[16:])*0xc2b2ae3d27d4eb4f ^ binary.LittleEndian.Uint64(k[24:])*0x165667b19e3779f9
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

func (x *personIndex) get(k *[32]byte, keys *chunks[[32]byte]) (uint32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := hashKey(k) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, false
		}
		if *keys.at(s - 1) == *k {
			return s - 1, true
		}
	}
}

func (x *personIndex) put(k *[32]byte, idx uint32, keys *chunks[[32]byte]) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow(keys)
	}
	mask := uint64(len(x.slots) - 1)
	i := hashKey(k) & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = idx + 1
	x.n++
}

func (x *personIndex) grow(keys *chunks[[32]byte]) {
	size := max(1024, len(x.slots)*2)
	old := x.slots
	x.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := hashKey(keys.at(s-1)) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// bitset is a set of entity indices: one bit each.
type bitset struct {
	words []uint64
	n     int
}

func (b *bitset) add(i uint32) {
	w := int(i >> 6)
	if w >= len(b.words) {
		b.words = append(b.words, make([]uint64, w-len(b.words)+1+len(b.words)/4)...)
	}
	if b.words[w]&(1<<(i&63)) == 0 {
		b.words[w] |= 1 << (i & 63)
		b.n++
	}
}

func (b *bitset) len() int { return b.n }

// each calls fn for every member in increasing order.
func (b *bitset) each(fn func(uint32)) {
	for w, word := range b.words {
		for word != 0 {
			fn(uint32(w<<6 + mathbits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
}

func (b *bitset) clear() {
	clear(b.words)
	b.n = 0
}

// chunks is a growable vector in fixed-size chunks: growing never copies or
// over-allocates more than one chunk, and pointers to elements stay valid.
type chunks[T any] struct {
	c [][]T
	n int
}

const chunkSize = 1 << 14

func (v *chunks[T]) len() int { return v.n }

func (v *chunks[T]) at(i uint32) *T { return &v.c[i/chunkSize][i%chunkSize] }

func (v *chunks[T]) push(x T) uint32 {
	if v.n%chunkSize == 0 {
		v.c = append(v.c, make([]T, chunkSize))
	}
	i := v.n
	v.c[i/chunkSize][i%chunkSize] = x
	v.n++
	return uint32(i)
}

// resize sets the length to n (zero elements).
func (v *chunks[T]) resize(n int) {
	v.c, v.n = nil, 0
	for v.n < n {
		v.push(*new(T))
	}
}
