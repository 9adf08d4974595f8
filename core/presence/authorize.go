package presence

import "strings"

// verdict is what a watcher may see of a presentity.
type verdict int

const (
	allow   verdict = iota
	block           // sees offline, never told why
	pending         // waits until the presentity decides
)

// authorize applies the presentity's pres-rules: block and polite-block
// win over allow; without a rule, watchers of the same domain are allowed
// and others wait. An outside presentity (a gateway's address) has no
// rules here: its owner decides on its own network what it publishes,
// so every watcher is allowed.
func (a *Agent) authorize(watcher, target string) verdict {
	if watcher == target || a.outside(target) {
		return allow
	}
	rules, _ := a.st.Rules(target)
	switch {
	case matches(rules.Block, watcher), matches(rules.Polite, watcher):
		return block
	case matches(rules.Allow, watcher):
		return allow
	case domainOf(watcher) == domainOf(target):
		return allow
	}
	return pending
}

// matches reports whether aor is named by one of the identities: a SIP
// URI or AOR, or "*@domain" for a whole domain.
func matches(ids []string, aor string) bool {
	for _, id := range ids {
		id = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(id), "sips:"), "sip:")
		if strings.HasPrefix(id, "*@") {
			if strings.EqualFold(id[2:], domainOf(aor)) {
				return true
			}
			continue
		}
		if at := strings.LastIndexByte(id, '@'); at > 0 && id[:at] == aor[:max(0, strings.LastIndexByte(aor, '@'))] &&
			strings.EqualFold(id[at+1:], domainOf(aor)) {
			return true
		}
	}
	return false
}

func domainOf(aor string) string {
	return strings.ToLower(aor[strings.LastIndexByte(aor, '@')+1:])
}
