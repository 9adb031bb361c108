package words

import "strconv"

// Count is n and noun, the noun with an s unless n is 1 ("1 ListUsers call", "3
// ListUsers calls"). The noun is the counted word last: "lookup", then " by name".
func Count[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}

// Them is "it" for one, "them" otherwise: what a sentence about n users calls them.
func Them[N ~int | ~int64](n N) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
