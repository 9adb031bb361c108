package fleet

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
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
		dynamoledger.AttrPK: attr.S(fleetKey(name)),
		dynamoledger.AttrSK: attr.S(replicaPrefix + replica),
	}
}

func (h heartbeat) item(name string) map[string]types.AttributeValue {
	it := key(name, h.replica)
	it[attrReplica] = attr.S(h.replica)
	it[attrFleetRate] = attr.F(h.rate)
	it[attrShare] = attr.F(h.share)
	it[attrAliveUntil] = attr.Ms(h.aliveUntil)
	it[attrHeartbeatAt] = attr.Ms(h.at)
	it[attrJoinedAt] = attr.Ms(h.joinedAt)
	it[dynamoledger.AttrExpiresAt] = attr.N(h.aliveUntil.Add(tidyAfter).Unix())
	if h.campaign != "" {
		it[attrCampaign] = attr.S(h.campaign)
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
	return peer{replica: attr.GetS(item, attrReplica), rate: attr.GetF(item, attrFleetRate),
		aliveUntil: attr.GetMs(item, attrAliveUntil)}
}
