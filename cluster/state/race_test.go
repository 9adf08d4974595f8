//go:build race

package state

// raceEnabled skips measurements the race detector distorts.
const raceEnabled = true
