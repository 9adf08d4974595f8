package directory

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-rtc/parley/cluster/state"
)

// Errors callers branch on. ErrNotFound and ErrExists are the state
// package's sentinels, so errors.Is works whichever layer produced them.
var (
	ErrUnknownDomain   = errors.New("directory: unknown domain")
	ErrInvalidName     = errors.New("directory: invalid username")
	ErrInvalidPassword = errors.New("directory: invalid password")
	ErrInvalidDisplay  = errors.New("directory: invalid display name")
	ErrInvalidImport   = errors.New("directory: invalid import")
	ErrInvalidHome     = errors.New("directory: invalid home")
	ErrNotFound        = state.ErrNotFound
	ErrExists          = state.ErrExists
)

// Limits on account fields.
const (
	MaxUserLen     = 64  // bytes of the user part
	MaxPasswordLen = 128 // characters
	MaxDisplayLen  = 256 // characters
)

// checkUser validates the user part of a name against RFC 3261's
// user = 1*( unreserved / escaped / user-unreserved ).
func checkUser(user string) error {
	if user == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(user) > MaxUserLen {
		return fmt.Errorf("%w %.16q...: longer than %d characters", ErrInvalidName, user, MaxUserLen)
	}
	for i := 0; i < len(user); i++ {
		c := user[i]
		switch {
		case isUserChar(c):
		case c == '%' && i+2 < len(user) && isHex(user[i+1]) && isHex(user[i+2]):
			i += 2
		case c == '%':
			return fmt.Errorf("%w %q: bad escape at position %d", ErrInvalidName, user, i+1)
		default:
			return fmt.Errorf("%w %q: character %q at position %d not allowed", ErrInvalidName, user, rune(c), i+1)
		}
	}
	return nil
}

// isUserChar reports whether c is an RFC 3261 unreserved or
// user-unreserved character.
func isUserChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkPassword accepts 1..MaxPasswordLen characters of valid UTF-8
// without control characters. The error never contains the password.
func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n == 0:
		return fmt.Errorf("%w: empty", ErrInvalidPassword)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidPassword, MaxPasswordLen)
	}
	if err := checkText(pw); err != "" {
		return fmt.Errorf("%w: %s", ErrInvalidPassword, err)
	}
	return nil
}

// checkDisplay accepts an empty display name or up to MaxDisplayLen
// characters of valid UTF-8 without control characters.
func checkDisplay(display string) error {
	if utf8.RuneCountInString(display) > MaxDisplayLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidDisplay, MaxDisplayLen)
	}
	if err := checkText(display); err != "" {
		return fmt.Errorf("%w: %s", ErrInvalidDisplay, err)
	}
	return nil
}

func checkText(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}
