package cognito

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// SecretHash computes Cognito's SECRET_HASH: Base64(HMAC-SHA256(secret, username+clientID)).
func SecretHash(secret []byte, username, clientID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(username))
	mac.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
