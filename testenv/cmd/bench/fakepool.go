package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
)

// fakePool is a Cognito user pool in memory for the verification lines (13, 14): it
// answers ListUsers (paged, the status and username filters), AdminGetUser,
// DescribeUserPool and ResendConfirmationCode at once, so that the quota simulator in
// front of it (its Upstream) throttles and counts what the binary calls. cognito-local
// keeps its users in a JSON file rewritten on every sign-up: 10 000 users would take
// minutes to create.
type fakePool struct {
	names  []string          // sorted
	status map[string]string // username → UserStatus
}

func newFakePool(status map[string]string) *fakePool {
	p := &fakePool{status: status}
	for u := range status {
		p.names = append(p.names, u)
	}
	sort.Strings(p.names)
	return p
}

func (p *fakePool) serve() *httptest.Server { return httptest.NewServer(p) }

type poolUser struct {
	Username   string `json:"Username"`
	UserStatus string `json:"UserStatus"`
	Enabled    bool   `json:"Enabled"`
}

func (p *fakePool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Username, Filter, PaginationToken string
		Limit                             int
	}
	_ = json.Unmarshal(body, &in)
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var out any
	switch op {
	case "DescribeUserPool":
		out = map[string]any{"UserPool": map[string]any{"Id": "us-east-1_bench", "UsernameConfiguration": map[string]bool{"CaseSensitive": false}}}
	case "ResendConfirmationCode":
		out = map[string]any{"CodeDeliveryDetails": map[string]string{"AttributeName": "email", "DeliveryMedium": "EMAIL", "Destination": "u***@e***"}}
	case "AdminGetUser":
		st, ok := p.status[in.Username]
		if !ok {
			w.Header().Set("X-Amzn-Errortype", "UserNotFoundException")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"UserNotFoundException","message":"User does not exist."}`)
			return
		}
		out = map[string]any{"Username": in.Username, "UserStatus": st, "Enabled": true}
	case "ListUsers":
		out = p.list(in.Filter, in.PaginationToken, in.Limit)
	default:
		out = map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (p *fakePool) list(filter, token string, limit int) any {
	attr, quoted, _ := strings.Cut(filter, " = ")
	want, _ := strconv.Unquote(quoted)
	if attr == "username" {
		if st, ok := p.status[want]; ok {
			return map[string]any{"Users": []poolUser{{want, st, true}}}
		}
		return map[string]any{"Users": []poolUser{}}
	}
	var match []string
	for _, u := range p.names {
		if attr != "cognito:user_status" || p.status[u] == want {
			match = append(match, u)
		}
	}
	start := 0
	if b, err := base64.RawURLEncoding.DecodeString(token); err == nil && token != "" {
		start, _ = strconv.Atoi(string(b))
	}
	if limit <= 0 || limit > 60 {
		limit = 60
	}
	end := min(start+limit, len(match))
	users := make([]poolUser, 0, end-start)
	for _, u := range match[start:end] {
		users = append(users, poolUser{u, p.status[u], true})
	}
	res := map[string]any{"Users": users}
	if end < len(match) {
		res["PaginationToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return res
}
