package cli

import "strings"

// didYouMean returns "; did you mean X?" for the candidate nearest to
// typed, or "" when none is near enough to be what the user meant. Flags
// are compared without their dashes: -dri is near --dir.
func didYouMean(typed string, candidates []string) string {
	best, bestDist := "", -1
	word := strings.ToLower(strings.TrimLeft(typed, "-"))
	if word == "" {
		return ""
	}
	for _, c := range candidates {
		name := strings.TrimLeft(c, "-")
		d := editDistance(word, name)
		if strings.HasPrefix(name, word) && len(word) >= 2 {
			d = 1 // a prefix: "acc" is account
		}
		if d > maxTypos(word) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// maxTypos is how many edits a word of that length may carry and still be
// suggested: one in a short word, two in a longer one.
func maxTypos(word string) int {
	if len(word) <= 4 {
		return 1
	}
	return 2
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes each count one (exce → exec is one).
func editDistance(a, b string) int {
	// d[i][j] is the distance of a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
