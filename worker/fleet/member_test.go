package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// These tests drive the members' rounds and the clock by hand (the loops of Join only
// call them on tickers): a fake table in memory, a fake clock, no sleeps. The calls on
// the wire are tested against dynalite in table_test.go.

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// memTable is the fleet's calls on a table in memory: items by pk then sk.
type memTable struct {
	mu    sync.Mutex
	items map[string]map[string]map[string]types.AttributeValue
}

func newMemTable() *memTable {
	return &memTable{items: map[string]map[string]map[string]types.AttributeValue{}}
}

func keyOf(item map[string]types.AttributeValue) (string, string) {
	return item[dynamoledger.AttrPK].(*types.AttributeValueMemberS).Value, item[dynamoledger.AttrSK].(*types.AttributeValueMemberS).Value
}

func (m *memTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk, sk := keyOf(in.Item)
	if m.items[pk] == nil {
		m.items[pk] = map[string]map[string]types.AttributeValue{}
	}
	m.items[pk][sk] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (m *memTable) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS).Value
	var sks []string
	for sk := range m.items[pk] {
		sks = append(sks, sk)
	}
	sort.Strings(sks)
	out := &dynamodb.QueryOutput{}
	for _, sk := range sks {
		out.Items = append(out.Items, m.items[pk][sk])
	}
	return out, nil
}

func (m *memTable) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk, sk := keyOf(in.Key)
	delete(m.items[pk], sk)
	return &dynamodb.DeleteItemOutput{}, nil
}

func (m *memTable) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items["fleet#"+name])
}

var errDown = errors.New("test: the table does not answer")

// faulty is one replica's view of the table, whose writes or reads can be made to fail.
type faulty struct {
	*memTable
	mu                    sync.Mutex
	failWrites, failReads bool
}

func (f *faulty) set(writes, reads bool) {
	f.mu.Lock()
	f.failWrites, f.failReads = writes, reads
	f.mu.Unlock()
}

func (f *faulty) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	fail := f.failWrites
	f.mu.Unlock()
	if fail {
		return nil, errDown
	}
	return f.memTable.PutItem(ctx, in, o...)
}

func (f *faulty) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	fail := f.failReads
	f.mu.Unlock()
	if fail {
		return nil, errDown
	}
	return f.memTable.Query(ctx, in, o...)
}

// ceiling records what a member sets.
type ceiling struct {
	mu sync.Mutex
	r  float64
}

func (c *ceiling) SetCeiling(r float64) { c.mu.Lock(); c.r = r; c.mu.Unlock() }
func (c *ceiling) get() float64         { c.mu.Lock(); defer c.mu.Unlock(); return c.r }

// replica is one member under test.
type replica struct {
	m      *fleet.Member
	api    *faulty
	ceil   *ceiling
	halted bool // killed: no more rounds, no Leave
}

// sim is a fleet of members on one table and one fake clock, rounds and applies driven
// by step: every member rounds every heartbeat and applies every quarter of one, like
// Join's loops.
type sim struct {
	t        *testing.T
	table    *memTable
	clock    *clockwork.FakeClock
	rate     float64
	interval time.Duration
	members  []*replica
	ticks    int
}

func newSim(t *testing.T, rate float64) *sim {
	return &sim{t: t, table: newMemTable(), clock: clockwork.NewFakeClockAt(t0), rate: rate, interval: time.Second}
}

func (s *sim) member(rate float64, name string) *replica {
	s.t.Helper()
	api := &faulty{memTable: s.table}
	m, err := fleet.New(fleet.Config{API: api, Table: "t", Replica: fmt.Sprintf("r%d", len(s.members)), Rate: rate,
		Name: name, Heartbeat: s.interval, Clock: s.clock,
		Retry: pacing.Policy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}})
	require.NoError(s.t, err)
	r := &replica{m: m, api: api, ceil: &ceiling{}}
	require.NoError(s.t, m.First(s.t.Context(), r.ceil))
	s.members = append(s.members, r)
	return r
}

// join adds a member (the default fleet, the sim's rate).
func (s *sim) join() *replica { return s.member(s.rate, "") }

// step advances the clock a quarter of the interval, then: every whole interval each
// live member rounds; each one applies.
func (s *sim) step() {
	s.clock.Advance(s.interval / 4)
	s.ticks++
	for _, r := range s.members {
		if r.halted {
			continue
		}
		if s.ticks%4 == 0 {
			_ = r.m.Round(s.t.Context())
		}
		r.m.Apply()
	}
}

// run steps for d, calling check after each step.
func (s *sim) run(d time.Duration, check func()) {
	for range int(d / (s.interval / 4)) {
		s.step()
		if check != nil {
			check()
		}
	}
}

// total is the sum of the live members' ceilings.
func (s *sim) total() float64 {
	var sum float64
	for _, r := range s.members {
		if !r.halted {
			sum += r.ceil.get()
		}
	}
	return sum
}

// until steps until ok, at most max, and returns how long it took.
func (s *sim) until(max time.Duration, ok func() bool) time.Duration {
	s.t.Helper()
	var took time.Duration
	for !ok() {
		require.Less(s.t, took, max, "not within %s", max)
		s.step()
		took += s.interval / 4
	}
	return took
}

func TestJoinHoldsThenRampsIn(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a := s.join()
	hold := a.m.Hold()
	require.Equal(t, 1500*time.Millisecond, hold)
	// During the hold, no share: not every replica counts it yet (Join waits).
	s.run(hold-s.interval/4, func() { require.Zero(t, a.ceil.get()); require.Zero(t, a.m.Share()) })
	s.step() // the hold is over: half the share, rising to it over one interval
	require.InDelta(t, 10, a.ceil.get(), 1e-9)
	took := s.until(2*time.Second, func() bool { return a.ceil.get() == 20 })
	require.Equal(t, a.m.Ramp(), took)
	require.Equal(t, 1, a.m.Alive())
	require.Equal(t, 20.0, a.m.Budget())
}

// Scaling 1 → 4 → 2: the fleet's total never exceeds the fleet rate, and settles at it.
func TestSharesSplitTheFleetRate(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a := s.join()
	s.run(3*time.Second, nil)
	require.Equal(t, 20.0, a.ceil.get())
	never := func() { require.LessOrEqual(t, s.total(), 20+1e-9, "the fleet's total above the fleet rate") }
	for range 3 {
		s.join()
		s.run(s.interval/4, never) // newcomers join a quarter interval apart
	}
	s.run(4*time.Second, never)
	for _, r := range s.members {
		require.InDelta(t, 5, r.ceil.get(), 1e-9)
		require.Equal(t, 4, r.m.Alive())
	}
	// Two leave cleanly: their records go at once; the others ramp up to 10 each.
	for _, r := range s.members[2:] {
		require.NoError(t, r.m.Leave(t.Context()))
		r.halted = true
	}
	require.Equal(t, 2, s.table.count(fleet.NameDefault))
	took := s.until(3*time.Second, func() bool { return s.members[0].ceil.get() == 10 && s.members[1].ceil.get() == 10 })
	// The next read (≤ 1 interval) and the ramp (1 interval).
	require.LessOrEqual(t, took, 2*s.interval)
	s.run(5*time.Second, never)
}

// KEDA scaling 1 → 50 → 5 (pods added in bulk, then 45 killed or stopped at once) never
// moves the fleet's total above the fleet rate, and it settles back at the fleet rate
// after each change.
func TestScalingToFiftyKeepsTheTotal(t *testing.T) {
	t.Parallel()
	const rate = 20.0
	s := newSim(t, rate)
	s.join()
	s.run(3*time.Second, nil)
	require.Equal(t, rate, s.total())
	never := func() { require.LessOrEqual(t, s.total(), rate+1e-9, "the fleet's total above the fleet rate") }
	for len(s.members) < 50 {
		for range min(7, 50-len(s.members)) { // a batch of pods starts within a quarter interval
			s.join()
		}
		s.run(s.interval/4, never)
	}
	s.run(5*time.Second, never)
	require.InDelta(t, rate, s.total(), 1e-9, "50 replicas: the whole fleet rate, no more")
	for _, r := range s.members {
		require.Equal(t, 50, r.m.Alive())
		require.InDelta(t, rate/50, r.ceil.get(), 1e-9)
	}
	// Scale-in to 5: half the pods stopped cleanly (SIGTERM: Leave), half killed.
	for i, r := range s.members[5:] {
		if i%2 == 0 {
			require.NoError(t, r.m.Leave(t.Context()))
		}
		r.halted = true
	}
	a := s.members[0]
	took := s.until(10*time.Second, func() bool { never(); return s.total() >= rate-1e-9 })
	require.LessOrEqual(t, took, a.m.Expiry()+s.interval+a.m.Ramp(), "the killed replicas' records expire, then the ramp")
	s.run(5*time.Second, never)
	for _, r := range s.members[:5] {
		require.Equal(t, 5, r.m.Alive())
		require.InDelta(t, rate/5, r.ceil.get(), 1e-9)
	}
}

// A killed replica (no Leave) stops counting ExpiryBeats intervals after its last
// heartbeat; the survivors take its share within one more interval and the ramp, and
// not before: until its record expires it may still be sending.
func TestKilledReplicaExpires(t *testing.T) {
	t.Parallel()
	s := newSim(t, 30)
	for range 3 {
		s.join()
	}
	s.run(4*time.Second, nil)
	a, b, c := s.members[0], s.members[1], s.members[2]
	require.InDelta(t, 10, a.ceil.get(), 1e-9)
	// Kill c just after its heartbeat.
	s.run(s.interval, nil)
	c.halted = true
	var killedFor time.Duration
	var sawTwo time.Duration
	for a.ceil.get() < 15-1e-9 || b.ceil.get() < 15-1e-9 {
		s.step()
		killedFor += s.interval / 4
		if sawTwo == 0 && a.m.Alive() == 2 {
			sawTwo = killedFor
		}
		require.Less(t, killedFor, 10*time.Second)
		if killedFor < a.m.Expiry() {
			require.InDelta(t, 10, a.ceil.get(), 1e-9, "%s after the kill: the dead record still counts", killedFor)
		}
	}
	t.Logf("kill → survivors see 2 after %s, take the share after %s", sawTwo, killedFor)
	require.GreaterOrEqual(t, sawTwo, a.m.Expiry())
	require.LessOrEqual(t, sawTwo, a.m.Expiry()+s.interval)
	require.LessOrEqual(t, killedFor, a.m.Expiry()+s.interval+a.m.Ramp())
	require.Equal(t, 3, s.table.count(fleet.NameDefault), "the dead record stays (until TTL tidies it), judged expired")
}

// One or two heartbeats lost or late change nothing: no swing.
func TestLateHeartbeatsDoNotSwing(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a, b := s.join(), s.join()
	s.run(4*time.Second, nil)
	require.InDelta(t, 10, a.ceil.get(), 1e-9)
	b.api.set(true, false) // b's writes fail for 1.5 intervals
	s.run(6*s.interval/4, func() {
		require.InDelta(t, 10, a.ceil.get(), 1e-9)
		require.InDelta(t, 10, b.ceil.get(), 1e-9)
	})
	b.api.set(false, false)
	s.run(5*time.Second, func() {
		require.InDelta(t, 10, a.ceil.get(), 1e-9)
		require.InDelta(t, 10, b.ceil.get(), 1e-9)
	})
}

// A replica whose heartbeats don't land drops to a trickle before its record expires
// (the others then take its share), and joins again once they land.
func TestStrandedReplicaTrickles(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a, b := s.join(), s.join()
	s.run(4*time.Second, nil)
	b.api.set(true, false)
	floor := 20 * fleet.StrandedFraction
	bound := func() { require.LessOrEqual(t, s.total(), 20+floor+1e-9) }
	took := s.until(b.m.Expiry(), func() bool { return b.ceil.get() == floor })
	t.Logf("writes failing → trickle after %s", took)
	s.until(3*time.Second, func() bool { return a.ceil.get() == 20 })
	s.run(3*time.Second, bound)
	b.api.set(false, false)
	s.until(5*time.Second, func() bool { return a.ceil.get() == 10 && b.ceil.get() == 10 })
	s.run(3*time.Second, func() { bound(); require.InDelta(t, 10, b.ceil.get(), 1e-9) })
}

// A failed read keeps the last share for the life of a record, then trickles too.
func TestReadFailureKeepsTheShare(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a, _ := s.join(), s.join()
	s.run(4*time.Second, nil)
	a.api.set(false, true)
	s.run(a.m.Expiry()-s.interval, func() { require.InDelta(t, 10, a.ceil.get(), 1e-9) })
	s.until(2*s.interval, func() bool { return a.ceil.get() == 20*fleet.StrandedFraction })
	a.api.set(false, false)
	s.until(5*time.Second, func() bool { return a.ceil.get() == 10 })
}

// Replicas given different fleet rates (a rolling change) use the lowest; fleets of
// other names on the table are not counted.
func TestLowestFleetRateAndNames(t *testing.T) {
	t.Parallel()
	s := newSim(t, 20)
	a := s.member(20, "")
	b := s.member(10, "")
	other := s.member(100, "other")
	s.run(4*time.Second, nil)
	require.InDelta(t, 5, a.ceil.get(), 1e-9)
	require.InDelta(t, 5, b.ceil.get(), 1e-9)
	require.Equal(t, 10.0, a.m.Budget())
	require.InDelta(t, 100, other.ceil.get(), 1e-9)
	require.Equal(t, 1, other.m.Alive())
	require.NoError(t, b.m.Leave(t.Context()))
	b.halted = true
	s.until(3*time.Second, func() bool { return a.ceil.get() == 20 })
}

// A replica started with a lower --fleet-rate (2 against 12) cuts the whole fleet: every
// replica names it in a WARN, once, and reports the mismatch; when it leaves, the fleet
// is back at 12 and says so.
func TestLowerFleetRateIsNamedOnEveryReplica(t *testing.T) {
	t.Parallel()
	s := newSim(t, 12)
	var logs [3]syncBuffer
	members := make([]*fleet.Member, 3)
	for i, rate := range []float64{12, 12, 2} {
		m, err := fleet.New(fleet.Config{API: s.table, Table: "t", Name: "workers", Replica: fmt.Sprintf("r%d", i), Rate: rate,
			Heartbeat: s.interval, Clock: s.clock, Logger: slog.New(slog.NewTextHandler(&logs[i], nil)),
			Retry: pacing.Policy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}})
		require.NoError(t, err)
		require.NoError(t, m.First(t.Context(), &ceiling{}))
		members[i] = m
	}
	for range 3 {
		for _, m := range members {
			require.NoError(t, m.Round(t.Context()))
		}
	}
	for i, m := range members {
		require.True(t, m.RateMismatch(), "r%d", i)
		require.Equal(t, 2.0, m.Budget(), "r%d: the lowest rate is the fleet's", i)
		require.Equal(t, 1, strings.Count(logs[i].String(), "level=WARN"), "r%d: one WARN, not one per round:\n%s", i, logs[i].String())
		require.Contains(t, logs[i].String(), "lowest_replica=r2", "r%d names the replica", i)
	}
	require.Contains(t, logs[0].String(), "another replica was started with a lower --fleet-rate")
	require.Contains(t, logs[0].String(), "fleet_rate=2 lowest_replica=r2 this_fleet_rate=12")
	require.Contains(t, logs[2].String(), "this replica's --fleet-rate is the lowest of the fleet")
	require.Contains(t, logs[2].String(), "highest_fleet_rate=12")
	require.Equal(t, 12.0, members[0].Configured())

	require.NoError(t, members[2].Leave(t.Context()))
	require.NoError(t, members[0].Round(t.Context()))
	require.False(t, members[0].RateMismatch())
	require.Equal(t, 12.0, members[0].Budget())
	require.Contains(t, logs[0].String(), "the replicas alive agree on --fleet-rate again")
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// A round cut short by Leave (its context cancelled) is not a failed heartbeat: no WARN
// on a clean exit. A round whose table does not answer still warns.
func TestCancelledRoundIsNoFailure(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	api := &faulty{memTable: newMemTable()}
	m, err := fleet.New(fleet.Config{API: api, Table: "t", Replica: "r", Rate: 5, Clock: clockwork.NewFakeClockAt(t0),
		Logger: slog.New(slog.NewTextHandler(&log, nil)), Retry: pacing.Policy{Attempts: 1}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, m.Round(ctx), context.Canceled)
	require.NotContains(t, log.String(), "level=WARN")

	api.set(true, false)
	require.ErrorIs(t, m.Round(t.Context()), errDown)
	require.Contains(t, log.String(), "level=WARN msg=\"fleet: heartbeat failed")
}

func TestJoinFailsWithoutAHeartbeat(t *testing.T) {
	t.Parallel()
	api := &faulty{memTable: newMemTable()}
	api.set(true, false)
	m, err := fleet.New(fleet.Config{API: api, Table: "t", Replica: "r", Rate: 5, Clock: clockwork.NewFakeClockAt(t0),
		Retry: pacing.Policy{Attempts: 1}})
	require.NoError(t, err)
	err = m.Join(t.Context(), &ceiling{})
	require.ErrorIs(t, err, errDown)
	require.ErrorContains(t, err, "fleet default: first heartbeat")
	require.NoError(t, m.Leave(t.Context()))
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, bad := range []fleet.Config{
		{Table: "t", Replica: "r", Rate: 1},
		{API: newMemTable(), Replica: "r", Rate: 1},
		{API: newMemTable(), Table: "t", Rate: 1},
		{API: newMemTable(), Table: "t", Replica: "r"},
		{API: newMemTable(), Table: "t", Replica: "r", Rate: 1, Name: " x"},
		{API: newMemTable(), Table: "t", Replica: "r", Rate: 1}, // no Clock
	} {
		_, err := fleet.New(bad)
		require.Error(t, err, "%+v", bad)
	}
	m, err := fleet.New(fleet.Config{API: newMemTable(), Table: "t", Replica: "r", Rate: 1, Heartbeat: time.Millisecond,
		Clock: clockwork.NewFakeClockAt(t0)})
	require.NoError(t, err)
	require.Equal(t, fleet.NameDefault, m.Name())
	require.Equal(t, fleet.MinHeartbeat/4, m.Step(), "the interval is bounded below")
	require.Equal(t, "", fleet.ValidName("queue-workers"))
	require.NotEmpty(t, fleet.ValidName("a\nb"))
}

// cancelAware is a table whose calls fail once their ctx has ended, as the SDK's do.
type cancelAware struct{ *memTable }

func (c cancelAware) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.memTable.PutItem(ctx, in, o...)
}

func (c cancelAware) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.memTable.Query(ctx, in, o...)
}

// A round cut short by the replica's own stop (Leave cancels the loop) is not a failed
// heartbeat: no WARN on a clean exit (issue 20, point 10).
func TestRoundCutShortByStopIsNotAFailure(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m, err := fleet.New(fleet.Config{API: cancelAware{newMemTable()}, Table: "t", Replica: "r", Rate: 5,
		Clock: clockwork.NewFakeClockAt(t0), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, m.Round(ctx), context.Canceled)
	require.NotContains(t, logs.String(), "level=WARN", logs.String())
}
