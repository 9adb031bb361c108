package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

const (
	usernameStem     = "demo-user-"
	unknownUser      = usernameStem + "unknown"
	spacedUser       = "demo user with space"
	adminCreatedUser = usernameStem + "admin-created"
	disabledUser     = usernameStem + "disabled"
	// inviteeStem names the --invitees users: admin-created, never invited.
	inviteeStem = "demo-invitee-"
)

// users are the pool's users by state, in creation order.
type users struct {
	confirmed    []string // demo-user-001 .. the first --confirm
	unconfirmed  []string // the rest of --users
	adminCreated []string // FORCE_CHANGE_PASSWORD, with --special-users
	disabled     []string // unconfirmed and disabled, with --special-users
	// invitees are admin-created (FORCE_CHANGE_PASSWORD) and never invited (--invitees);
	// not in the CSV (all): the pool's --invitations demo.
	invitees []string
}

// all is every user in the pool, in CSV order.
func (u users) all() []string {
	var all []string
	for _, s := range [][]string{u.confirmed, u.unconfirmed, u.adminCreated, u.disabled} {
		all = append(all, s...)
	}
	return all
}

func createUsers(ctx context.Context, pool *emu.Pool, o options) (users, error) {
	var u users
	for i := 1; i <= o.users; i++ {
		name := fmt.Sprintf("%s%03d", usernameStem, i)
		if err := pool.SignUp(ctx, name, name+"@example.com"); err != nil {
			return u, err
		}
		if i <= o.confirm {
			if err := pool.Confirm(ctx, name); err != nil {
				return u, err
			}
			u.confirmed = append(u.confirmed, name)
		} else {
			u.unconfirmed = append(u.unconfirmed, name)
		}
	}
	for i := 1; i <= o.invitees; i++ {
		name := fmt.Sprintf("%s%03d", inviteeStem, i)
		if err := pool.AdminCreate(ctx, name, name+"@example.com"); err != nil {
			return u, err
		}
		u.invitees = append(u.invitees, name)
	}
	if !o.specialUsers {
		return u, nil
	}
	if err := pool.AdminCreate(ctx, adminCreatedUser, adminCreatedUser+"@example.com"); err != nil {
		return u, err
	}
	u.adminCreated = []string{adminCreatedUser}
	if err := pool.SignUp(ctx, disabledUser, disabledUser+"@example.com"); err != nil {
		return u, err
	}
	if err := pool.Disable(ctx, disabledUser); err != nil {
		return u, err
	}
	u.disabled = []string{disabledUser}
	return u, nil
}

// writeCSV writes a "username" column: every user in the pool, then a
// duplicate, an unknown user and two invalid names (inner space; 129 chars).
func writeCSV(path string, u users) error {
	all := u.all()
	rows := [][]string{{"username"}}
	for _, name := range all {
		rows = append(rows, []string{name})
	}
	rows = append(rows,
		[]string{all[0]}, // duplicate
		[]string{unknownUser},
		[]string{spacedUser},
		[]string{usernameStem + strings.Repeat("x", 129-len(usernameStem))}, // 129 chars
	)
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return writeFile(path, []byte(b.String()), 0o644)
}
