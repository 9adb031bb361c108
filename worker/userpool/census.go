package userpool

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Census is the pool's users in a set of states, listed once (Lister.Census) so that
// --verify-users can place a CSV's users without a call each. It keeps no username: a
// 64-bit hash of each under the pool's case rule, tagged with the user's state, in an
// admit.Set (16–32 bytes a listed user). A hash collision could place an unlisted user
// as a listed one: at 64 bits, about one chance in 10^5 for a 10-million-user pool.
// Safe for concurrent reads once built.
type Census struct {
	// Statuses are the states listed: a user in none of them (confirmed, or not in the
	// pool at all) is not placed, and needs a lookup.
	Statuses []string
	// Users is the number of users listed; Pages the ListUsers attempts the census took.
	Users int
	Pages int64
	set   *admit.Set
}

// The tag: the status's index in Statuses plus one, and the Enabled bit.
const tagEnabled = 1 << 8

// Census lists the pool's users in statuses once and keeps each one's state.
func (l *Lister) Census(ctx context.Context, statuses []string, c admit.Case) (*Census, error) {
	cen := &Census{Statuses: statuses, set: admit.NewSet(c)}
	index := map[types.UserStatusType]uint32{}
	for i, st := range statuses {
		index[types.UserStatusType(st)] = uint32(i) + 1
	}
	before := l.Pages()
	err := l.List(ctx, statuses, func(u types.UserType) error {
		tag, ok := index[u.UserStatus]
		if !ok || u.Username == nil {
			return nil // the filter's word is the listing's: a state outside it is not placed
		}
		if u.Enabled {
			tag |= tagEnabled
		}
		cen.set.Put(*u.Username, tag)
		cen.Users++
		return nil
	})
	cen.Pages = l.Pages() - before
	if err != nil {
		return nil, err
	}
	return cen, nil
}

// Place returns the state of username if the census listed it.
func (c *Census) Place(username string) (job.UserState, bool) {
	tag, ok := c.set.Get(username)
	if !ok {
		return job.UserState{}, false
	}
	i := int(tag&0xff) - 1
	if i < 0 || i >= len(c.Statuses) {
		return job.UserState{}, false
	}
	return job.UserState{Status: c.Statuses[i], Enabled: tag&tagEnabled != 0}, true
}

// StateOf is the state a ListUsers answer gives of a user.
func StateOf(u types.UserType) job.UserState {
	return job.UserState{Status: string(u.UserStatus), Enabled: u.Enabled}
}
