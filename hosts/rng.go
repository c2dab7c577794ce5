package hosts

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"sync"
)

// hostSeed derives a host's 32-byte seed from the lab seed and the host name.
func hostSeed(seed uint64, name string) [32]byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(name))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// secureRNG is the stack's "secure" random reader: ChaCha8 from a fixed seed,
// safe for use from several goroutines.
type secureRNG struct {
	mu sync.Mutex
	c  *rand.ChaCha8
}

// Read implements io.Reader.
func (r *secureRNG) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Read(p)
}

// randSource implements math/rand.Source for the stack's insecure RNG.
type randSource struct {
	mu sync.Mutex
	r  *rand.PCG
}

// Int63 implements math/rand.Source.
func (s *randSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(s.r.Uint64() >> 1)
}

// Seed implements math/rand.Source. The source keeps its lab-derived seed.
func (s *randSource) Seed(int64) {}

func newRNGs(seed uint64, name string) (*secureRNG, *randSource) {
	k := hostSeed(seed, name)
	pcg := rand.NewPCG(binary.BigEndian.Uint64(k[0:8]), binary.BigEndian.Uint64(k[8:16]))
	var cs [32]byte
	copy(cs[:], k[:])
	cs[0] ^= 0x5a // keep the two streams distinct
	return &secureRNG{c: rand.NewChaCha8(cs)}, &randSource{r: pcg}
}
