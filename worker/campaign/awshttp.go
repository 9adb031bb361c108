package campaign

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// keepConnections sizes the AWS clients' connection pool for workers calls in flight at
// once. The SDK's transport keeps 10 idle connections per host
// (awshttp.DefaultHTTPTransportMaxIdleConnsPerHost): with more workers every call past
// the tenth closes its connection when it returns and the next call dials again (a TCP
// handshake, and with TLS a handshake more, per call). Each host keeps one connection a
// worker, and the SDK's 10 for the calls beside them (the source, --verify-users, the
// ledger table's finish calls); the total is bounded by the hosts (a campaign talks to
// three at most). A client the SDK was configured with that is not its buildable one
// (none today) is left alone.
func keepConnections(ac *aws.Config, workers int) {
	bc, ok := ac.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		if ac.HTTPClient != nil {
			return
		}
		bc = awshttp.NewBuildableClient()
	}
	perHost := max(workers, 0) + awshttp.DefaultHTTPTransportMaxIdleConnsPerHost
	ac.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = perHost
		t.MaxIdleConns = 0 // no total bound: per host only
	})
}
