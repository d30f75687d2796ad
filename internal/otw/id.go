package otw

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// crockford is the alphabet of ULIDs: no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + a 26-character ULID: 48 bits of milliseconds then
// 80 random bits. IDs sort by creation time, which keeps index inserts at
// the right edge of the B-tree and makes them readable in logs.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:]) // never fails: see "Randomness cannot fail" in docs/design.md
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	dst := out[len(prefix):]
	// 128 bits as 26 base32 digits, most significant first (the first digit
	// carries only 3 bits).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		dst[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
