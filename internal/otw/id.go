package otw

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// crockford is the alphabet of ULIDs: no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulidLen is the length of a ULID in base32.
const ulidLen = 26

// randomLen is the random part of a ULID: 80 bits.
const randomLen = 10

// NewID returns prefix + a 26-character ULID: 48 bits of milliseconds then
// 80 random bits. IDs sort by creation time, which keeps index inserts at
// the right edge of the B-tree and makes them readable in logs.
func NewID(prefix string, now time.Time) string {
	var rnd [randomLen]byte
	rand.Read(rnd[:]) // never fails: see "Randomness cannot fail" in docs/design.md
	out := make([]byte, 0, len(prefix)+ulidLen)
	return string(appendID(out, prefix, now, rnd[:]))
}

// NewIDs returns n IDs made as NewID makes them, for a batch: one string
// holds them all (a strings.Builder's, so not copied again), and randomness
// is read for many at a time.
func NewIDs(prefix string, now time.Time, n int) []string {
	size := len(prefix) + ulidLen
	var all strings.Builder
	all.Grow(n * size)
	var rnd [32 * randomLen]byte
	var id [64]byte
	for i := range n {
		k := i % 32
		if k == 0 {
			rand.Read(rnd[:]) // never fails: see "Randomness cannot fail" in docs/design.md
		}
		all.Write(appendID(id[:0], prefix, now, rnd[k*randomLen:(k+1)*randomLen]))
	}
	s := all.String()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s[i*size : (i+1)*size]
	}
	return ids
}

// appendID appends prefix and the ULID of now and the random bytes rnd.
func appendID(dst []byte, prefix string, now time.Time, rnd []byte) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	copy(b[6:], rnd)
	dst = append(dst, prefix...)
	start := len(dst)
	dst = append(dst, make([]byte, ulidLen)...)
	digits := dst[start:]
	// 128 bits as 26 base32 digits, most significant first (the first digit
	// carries only 3 bits).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := ulidLen - 1; i >= 0; i-- {
		digits[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return dst
}
