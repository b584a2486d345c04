package hub

// dirtySet is the keys waiting for a round.
type dirtySet struct {
	city     bool
	counties map[string]struct{}
	sites    map[string]struct{}
	hh       []string // in the order they changed, so none starves
	hhSet    map[string]struct{}
}

func newDirtySet() dirtySet {
	return dirtySet{counties: map[string]struct{}{}, sites: map[string]struct{}{}, hhSet: map[string]struct{}{}}
}

func (d *dirtySet) empty() bool {
	return !d.city && len(d.counties) == 0 && len(d.sites) == 0 && len(d.hh) == 0
}

func (d *dirtySet) household(id string) {
	if _, ok := d.hhSet[id]; !ok && validKey(id) {
		d.hhSet[id] = struct{}{}
		d.hh = append(d.hh, id)
	}
}

func (d *dirtySet) site(id string) {
	if validKey(id) {
		d.sites[id] = struct{}{}
	}
}

// validKey reports whether id can be part of a KV key.
func validKey(id string) bool {
	if id == "" || id[0] == '.' || id[len(id)-1] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=' || c == '/' || c == '.') {
			return false
		}
	}
	return true
}
