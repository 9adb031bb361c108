package fleet

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

// PartitionPrefix begins the partition key of every fleet's records: a replica's
// heartbeat record shares the ledger table with pk = "fleet#<name>", sk = "replica#<replica
// id>", so one Query on the pk reads the whole fleet. deploy/iam/policy-fleet-rate.json
// limits the fleet's calls to these partitions (dynamodb:LeadingKeys).
const PartitionPrefix = "fleet#"

const replicaPrefix = "replica#"

// Attributes of a heartbeat record.
const (
	attrReplica     = "replica"      // replica id (the ledger's owner)
	attrCampaign    = "campaign"     // campaign id, for people reading the table
	attrFleetRate   = "fleet_rate"   // the --fleet-rate this replica was given
	attrShare       = "share"        // its share when it wrote the record, for people
	attrAliveUntil  = "alive_until"  // ms: counted as alive until then (judged by readers)
	attrHeartbeatAt = "heartbeat_at" // ms
	attrJoinedAt    = "joined_at"    // ms
)

// tidyAfter: a record's expires_at (the table's TTL attribute) is this long after its
// alive_until, so DynamoDB deletes a killed replica's record some time later. Expiry
// itself is alive_until, judged by whoever reads the record: TTL deletion is lazy (and
// dynalite has none).
const tidyAfter = time.Hour

// heartbeat is what a replica writes about itself.
type heartbeat struct {
	replica, campaign string
	rate, share       float64
	at, aliveUntil    time.Time
	joinedAt          time.Time
}

func fleetKey(name string) string { return PartitionPrefix + name }

func key(name, replica string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		dynamoledger.AttrPK: s(fleetKey(name)),
		dynamoledger.AttrSK: s(replicaPrefix + replica),
	}
}

func (h heartbeat) item(name string) map[string]types.AttributeValue {
	it := key(name, h.replica)
	it[attrReplica] = s(h.replica)
	it[attrFleetRate] = f(h.rate)
	it[attrShare] = f(h.share)
	it[attrAliveUntil] = ms(h.aliveUntil)
	it[attrHeartbeatAt] = ms(h.at)
	it[attrJoinedAt] = ms(h.joinedAt)
	it[dynamoledger.AttrExpiresAt] = n(h.aliveUntil.Add(tidyAfter).Unix())
	if h.campaign != "" {
		it[attrCampaign] = s(h.campaign)
	}
	return it
}

// peer is a record as a reader sees it.
type peer struct {
	replica    string
	rate       float64 // 0: unreadable
	aliveUntil time.Time
}

func parsePeer(item map[string]types.AttributeValue) peer {
	p := peer{replica: getS(item, attrReplica)}
	if v, ok := item[attrFleetRate].(*types.AttributeValueMemberN); ok {
		p.rate, _ = strconv.ParseFloat(v.Value, 64)
	}
	if v, ok := item[attrAliveUntil].(*types.AttributeValueMemberN); ok {
		if i, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			p.aliveUntil = time.UnixMilli(i)
		}
	}
	return p
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func f(v float64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'f', -1, 64)}
}

func ms(t time.Time) types.AttributeValue { return n(t.UnixMilli()) }

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
