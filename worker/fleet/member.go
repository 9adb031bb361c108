package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
)

// Ceiling is what a Member steers: the shared limiter's ceiling
// (*pacing.Limiter.SetCeiling). Adaptive cuts apply on top of it.
type Ceiling interface {
	SetCeiling(r float64)
}

// maxPages bounds one read of the fleet (a page holds 1 MB: thousands of replicas).
const maxPages = 16

// Member is this replica in its fleet: it heartbeats its record, reads the fleet's, and
// sets its limiter's ceiling to its share of the fleet rate. Join, then Leave; safe for
// concurrent use.
type Member struct {
	cfg  Config
	call dynamoledger.Caller
	log  *slog.Logger
	clk  clock.Clock

	mu         sync.Mutex
	ceiling    Ceiling
	shape      shaper
	joinedAt   time.Time
	holding    bool         // not taking a share yet: until holdUntil, then the shaper starts
	holdUntil  time.Time    //
	wroteUntil time.Time    // alive_until of the last heartbeat that landed
	readAt     time.Time    // when the last read of the fleet that succeeded began
	alive      int          // replicas alive at the last read, this one included
	budget     float64      // the fleet's rate at the last read
	mismatch   rateMismatch // the spread of --fleet-rate at the last read
	share      float64      // the ceiling applied
	stranded   bool
	writeFails int // failures in a row, to log a streak once
	readFails  int

	stop  context.CancelFunc
	done  chan struct{}
	leave sync.Once
}

// New returns the member of cfg. It makes no call: Join does.
func New(cfg Config) (*Member, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Member{cfg: cfg, log: cfg.Logger.With("fleet", cfg.Name), clk: cfg.Clock,
		call:  dynamoledger.NewCaller(cfg.Table, cfg.Region, cfg.CallTimeout, cfg.Retry, cfg.Metrics, cfg.Clock),
		shape: shaper{ramp: cfg.ramp()}, alive: 1, budget: cfg.Rate,
		mismatch: rateMismatch{lowest: cfg.Rate, highest: cfg.Rate, lowestBy: cfg.Replica, highestBy: cfg.Replica}}, nil
}

// Name is the fleet's name.
func (m *Member) Name() string { return m.cfg.Name }

// Alive is the number of replicas alive in the fleet at the last read, this one included.
func (m *Member) Alive() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alive
}

// Budget is the fleet's rate at the last read: the lowest --fleet-rate of the replicas
// alive.
func (m *Member) Budget() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.budget
}

// Share is this replica's share now: the ceiling applied to its limiter.
func (m *Member) Share() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.share
}

// Join writes this replica's first heartbeat and reads the fleet (an error is returned
// if either fails: a replica that can't heartbeat takes no share), starts the heartbeat,
// then waits until every replica already running has counted this one (the hold:
// 1.5 heartbeat intervals) and sets ceiling to the first share: half of the fleet rate ÷
// the replicas alive, rising to all of it over one interval. Leave must follow, even
// after an error.
func (m *Member) Join(ctx context.Context, ceiling Ceiling) error {
	if err := m.first(ctx, ceiling); err != nil {
		return err
	}
	alive := m.Alive()
	loop, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop, m.done = stop, make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { m.every(loop, m.cfg.Heartbeat, func() { m.beat(loop) }) })
	wg.Go(func() { m.every(loop, m.cfg.step(), m.apply) })
	go func() { wg.Wait(); close(m.done) }()

	m.log.Info("joining fleet: waiting for the other replicas to count this one", "replicas", alive,
		"fleet_rate", m.Budget(), "hold", m.cfg.hold().String())
	if err := clock.Sleep(ctx, m.clk, m.cfg.hold()); err != nil {
		return err
	}
	m.apply()
	m.log.Info("joined fleet", "replicas", m.Alive(), "fleet_rate", m.Budget(), "share", m.Share(),
		"heartbeat", m.cfg.Heartbeat.String())
	return nil
}

// first is Join's first round: the heartbeat and the read, then the hold begins.
func (m *Member) first(ctx context.Context, ceiling Ceiling) error {
	m.mu.Lock()
	m.ceiling, m.joinedAt, m.holding = ceiling, m.clk.Now(), true
	m.mu.Unlock()
	if err := m.round(ctx); err != nil {
		return fmt.Errorf("fleet %s: first heartbeat: %w", m.cfg.Name, err)
	}
	m.mu.Lock()
	m.holdUntil = m.clk.Now().Add(m.cfg.hold())
	m.mu.Unlock()
	return nil
}

// Leave stops the heartbeat and deletes this replica's record, so that the others take
// its share at their next read. Call it once no call of this replica can start any more.
func (m *Member) Leave(ctx context.Context) error {
	var err error
	m.leave.Do(func() {
		if m.stop != nil {
			m.stop()
			<-m.done
		}
		err = m.call.Do(ctx, "fleet_leave", func(ctx context.Context) error {
			_, err := m.cfg.API.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(m.cfg.Table),
				Key: key(m.cfg.Name, m.cfg.Replica)})
			return err
		})
		if err != nil {
			m.log.Warn("fleet: could not delete this replica's record; the others count it until it expires",
				"error", err, "expires_in", m.cfg.expiry().String())
			return
		}
		m.log.Info("left fleet")
	})
	return err
}

// every calls fn every d until ctx ends.
func (m *Member) every(ctx context.Context, d time.Duration, fn func()) {
	t := m.clk.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			fn()
		}
	}
}

// beat is one heartbeat round of the loop, bounded so that a hung table does not hold
// the next one back for longer than a record lives.
func (m *Member) beat(ctx context.Context) {
	ctx, cancel := clock.WithTimeout(ctx, m.clk, m.cfg.expiry())
	defer cancel()
	_ = m.round(ctx) // logged by round; apply judges what a failure means
}

// round writes the heartbeat, then reads the fleet.
func (m *Member) round(ctx context.Context) error {
	now := m.clk.Now()
	m.mu.Lock()
	hb := heartbeat{replica: m.cfg.Replica, campaign: m.cfg.Campaign, rate: m.cfg.Rate, share: m.share,
		at: now, aliveUntil: now.Add(m.cfg.expiry()), joinedAt: m.joinedAt}
	m.mu.Unlock()
	werr := m.call.Do(ctx, "fleet_heartbeat", func(ctx context.Context) error {
		_, err := m.cfg.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(m.cfg.Table), Item: hb.item(m.cfg.Name)})
		return err
	})
	if stopped(ctx) {
		return werr // Leave (or the run's stop) cut the round short: nothing failed
	}
	m.mu.Lock()
	if werr == nil {
		m.wroteUntil = hb.aliveUntil
		if m.writeFails > 0 {
			m.log.Info("fleet: heartbeat written again", "failed", m.writeFails)
		}
		m.writeFails = 0
	} else if ctx.Err() != nil && errors.Is(werr, context.Canceled) {
		// A round cut short by Leave or a stop: no failure of the table, nothing to say.
		m.mu.Unlock()
		return werr
	} else {
		if m.writeFails == 0 {
			m.log.Warn("fleet: heartbeat failed; the others count this replica until its record expires",
				"error", werr, "alive_until", m.wroteUntil)
		}
		m.writeFails++
	}
	m.mu.Unlock()

	readAt := m.clk.Now()
	peers, rerr := m.read(ctx)
	if stopped(ctx) {
		return errors.Join(werr, rerr)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rerr != nil && ctx.Err() != nil && errors.Is(rerr, context.Canceled) {
		return errors.Join(werr, rerr) // cut short, as above
	}
	if rerr != nil {
		if m.readFails == 0 {
			m.log.Warn("fleet: reading the fleet failed; keeping the last share", "error", rerr,
				"replicas", m.alive, "share", m.share)
		}
		m.readFails++
		return errors.Join(werr, rerr)
	}
	m.readFails = 0
	alive := 1
	mm := rateMismatch{lowest: m.cfg.Rate, lowestBy: m.cfg.Replica, highest: m.cfg.Rate, highestBy: m.cfg.Replica}
	for _, p := range peers {
		if p.replica == m.cfg.Replica || !p.aliveUntil.After(readAt) {
			continue
		}
		alive++
		if p.rate > 0 {
			mm.add(p.replica, p.rate)
		}
	}
	budget := mm.lowest
	if alive != m.alive || budget != m.budget {
		m.log.Info("fleet changed", "replicas", alive, "was", m.alive, "fleet_rate", budget,
			"target_share", budget/float64(alive))
	}
	if mm != m.mismatch {
		m.logMismatch(mm)
	}
	m.alive, m.budget, m.mismatch, m.readAt = alive, budget, mm, readAt
	return werr
}

// rateMismatch is the spread of --fleet-rate among the replicas alive: the lowest is the
// fleet's rate, so one replica started with a lower one cuts the whole fleet.
type rateMismatch struct {
	lowest, highest     float64
	lowestBy, highestBy string // the replicas that hold them (the first met on a tie)
}

func (r *rateMismatch) add(replica string, rate float64) {
	if rate < r.lowest {
		r.lowest, r.lowestBy = rate, replica
	}
	if rate > r.highest {
		r.highest, r.highestBy = rate, replica
	}
}

func (r rateMismatch) any() bool { return r.lowest != r.highest }

// logMismatch says, on every replica, which replica holds the fleet's rate below what
// the others were given (a WARN while the rates differ), or that they agree again.
func (m *Member) logMismatch(mm rateMismatch) {
	switch {
	case !mm.any():
		if m.mismatch.any() {
			m.log.Info("fleet: the replicas alive agree on --fleet-rate again", "fleet_rate", mm.lowest)
		}
	case mm.lowestBy == m.cfg.Replica:
		m.log.Warn("fleet: this replica's --fleet-rate is the lowest of the fleet and cuts the whole fleet to it; "+
			"give every replica the same --fleet-rate", "fleet_rate", mm.lowest, "lowest_replica", mm.lowestBy,
			"highest_fleet_rate", mm.highest, "highest_replica", mm.highestBy)
	default:
		m.log.Warn("fleet: another replica was started with a lower --fleet-rate; the whole fleet paces at it, not at "+
			"this replica's; give every replica the same --fleet-rate", "fleet_rate", mm.lowest, "lowest_replica", mm.lowestBy,
			"this_fleet_rate", m.cfg.Rate)
	}
}

// RateMismatch reports whether the replicas alive at the last read were given different
// --fleet-rate values (the fleet then paces at the lowest).
func (m *Member) RateMismatch() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mismatch.any()
}

// Configured is this replica's own --fleet-rate.
func (m *Member) Configured() float64 { return m.cfg.Rate }

// stopped: ctx was cancelled (Leave stops the loops; a run's stop ends Join), as
// against a round that timed out, which is a missed heartbeat worth a WARN.
func stopped(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// read is every record of the fleet: one strongly consistent Query on its partition.
func (m *Member) read(ctx context.Context) ([]peer, error) {
	var peers []peer
	var start map[string]types.AttributeValue
	for range maxPages {
		var out *dynamodb.QueryOutput
		err := m.call.Do(ctx, "fleet_read", func(ctx context.Context) error {
			var err error
			out, err = m.cfg.API.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(m.cfg.Table),
				KeyConditionExpression:    aws.String("#pk = :pk"),
				ProjectionExpression:      aws.String("#replica, #rate, #alive"),
				ExpressionAttributeNames:  map[string]string{"#pk": dynamoledger.AttrPK, "#replica": attrReplica, "#rate": attrFleetRate, "#alive": attrAliveUntil},
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attr.S(fleetKey(m.cfg.Name))},
				ConsistentRead:            aws.Bool(true),
				ExclusiveStartKey:         start,
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			peers = append(peers, parsePeer(it))
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return peers, nil
		}
	}
	return peers, nil // thousands of replicas: the count is a floor, shares only smaller
}

// valid: the fleet still counts this replica (its last record has not expired, with a
// step to spare) and it knows the fleet (read within a record's life).
func (m *Member) validLocked(now time.Time) bool {
	return now.Before(m.wroteUntil.Add(-m.cfg.step())) && now.Sub(m.readAt) < m.cfg.expiry()
}

// apply sets the ceiling to the share of now.
func (m *Member) apply() {
	now := m.clk.Now()
	m.mu.Lock()
	target := m.budget / float64(m.alive)
	floor := min(m.budget*StrandedFraction, target)
	var share float64
	switch valid := m.validLocked(now); {
	case !valid:
		if !m.stranded {
			m.log.Warn("fleet: this replica can't tell whether the fleet still counts it; pacing at a trickle "+
				"until a heartbeat lands", "share", floor, "heartbeat_failures", m.writeFails, "read_failures", m.readFails)
		}
		m.stranded = true
		share = m.shape.cut(now, floor)
	case m.stranded:
		// Back: the others may have taken this replica's share meanwhile. Join again.
		m.log.Info("fleet: heartbeat and read back; joining again", "hold", m.cfg.hold().String())
		m.stranded, m.holding, m.holdUntil = false, true, now.Add(m.cfg.hold())
		share = m.shape.cut(now, floor)
	case m.holding && now.Before(m.holdUntil) && m.share == 0:
		// Joining: no share yet (Join has not returned: nothing is called).
	case m.holding && now.Before(m.holdUntil):
		share = m.shape.cut(now, floor)
	case m.holding:
		m.holding = false
		share = m.shape.start(now, target)
	default:
		share = m.shape.update(now, target)
	}
	changed := share != m.share && share > 0
	m.share = share
	ceiling := m.ceiling
	m.mu.Unlock()
	if changed && ceiling != nil {
		ceiling.SetCeiling(share)
	}
}
