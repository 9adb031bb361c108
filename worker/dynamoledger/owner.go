package dynamoledger

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
)

// ReplicaID names this process in the records it writes: host (a pod's name on
// Kubernetes), pid and 4 random bytes, so that a restarted container (same host, maybe
// the same pid) is a new owner and never mistakes its predecessor's claims for its own.
func ReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "/" + strconv.Itoa(os.Getpid()) + "/" + randomHex(4)
}

// newClaimID is the id of one claim (16 random bytes).
func newClaimID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
