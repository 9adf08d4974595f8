package pstn

import (
	"errors"
	"fmt"
)

// ErrConfig is wrapped by every configuration problem; the more precise
// values below wrap it, so errors.Is(err, ErrConfig) holds for each.
var ErrConfig = errors.New("bad configuration")

// Configuration problems (Validate, Decode).
var (
	ErrDecode      = fmt.Errorf("not a configuration document: %w", ErrConfig)
	ErrPattern     = fmt.Errorf("bad pattern: %w", ErrConfig)
	ErrTranslation = fmt.Errorf("bad translation: %w", ErrConfig)
	ErrNumber      = fmt.Errorf("bad number: %w", ErrConfig)
	ErrUnknownRef  = fmt.Errorf("unknown reference: %w", ErrConfig)
	ErrDuplicate   = fmt.Errorf("duplicate: %w", ErrConfig)
	ErrLoop        = fmt.Errorf("route back to ourselves: %w", ErrConfig)
	ErrInvalid     = fmt.Errorf("invalid value: %w", ErrConfig)
)

// Call-time outcomes (Normalize, Decide): each is an answer the plugin
// gives the caller (README.md, Claims).
var (
	// ErrNotANumber: the dialled string holds no dialable number (404).
	ErrNotANumber = errors.New("not a phone number")
	// ErrNoRule: no rule of the dial plan matches and it is not a global
	// number (404; Lync answers the same).
	ErrNoRule = errors.New("no normalization rule matches")
	// ErrUnknownUser: the caller has no phone configuration (403).
	ErrUnknownUser = errors.New("caller has no phone configuration")
	// ErrBlocked: the caller's policy blocks the number (403).
	ErrBlocked = errors.New("number blocked by policy")
	// ErrNoRoute: no route of the caller's usages matches (404).
	ErrNoRoute = errors.New("no route")
	// ErrNoGateway: routes matched but every trunk is disabled or
	// draining (503).
	ErrNoGateway = errors.New("no gateway available")
)
