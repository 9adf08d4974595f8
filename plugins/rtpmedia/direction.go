package rtpmedia

import "github.com/pion/sdp/v3"

// Direction is an SDP stream's direction attribute (RFC 3264 5.1).
type Direction string

// The four directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Answer is the direction that answers an offer of d (RFC 3264 6.1):
// sendonly is answered recvonly, recvonly sendonly, inactive inactive,
// anything else sendrecv.
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Receives reports whether the side that wrote d wants media sent to it.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Sends reports whether the side that wrote d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// DirectionOf is md's direction: its own attribute, else the session's,
// else sendrecv; a stream with port zero is inactive.
func DirectionOf(sd *sdp.SessionDescription, md *sdp.MediaDescription) Direction {
	if md.MediaName.Port.Value == 0 {
		return Inactive
	}
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch d := Direction(a.Key); d {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				return d
			}
		}
	}
	return SendRecv
}
