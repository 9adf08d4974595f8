#!/usr/bin/python3
"""A WebRTC peer for the WebRTC gateway's interop tests, on aiortc.

It sends a sine tone (an AudioStreamTrack) and records what it receives
into a 16-bit mono WAV file at 8 kHz. The test drives it with one JSON
object per line on stdin and reads one JSON object per line on stdout:

  {"op": "offer"}                  -> {"op": "offer", "sdp": ...}
  {"op": "answer", "sdp": ...}     -> {"op": "ok"}       (the answer to our offer)
  {"op": "accept", "sdp": ...}     -> {"op": "answer", "sdp": ...}  (an offer to us)
  {"op": "direction", "dir": D}    -> {"op": "offer", "sdp": ...}  (a re-offer: sendrecv, sendonly, inactive)
  {"op": "stop"}                   -> {"op": "stopped", "seconds": S}, then exit

It also reports {"op": "state", "state": ...} as the connection changes.
It exits on EOF, on "stop", or after --max-seconds whatever happens.

aioice gathers host candidates from every interface but 127.0.0.1 and
::1, so this peer replaces its address list with --address: the tests
talk only to loopback.
"""

import argparse
import asyncio
import fractions
import json
import math
import sys
import time
import wave

import aioice.ice
import av
import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError


class Sine(AudioStreamTrack):
    """A sine at hz, 20 ms frames of 8 kHz mono, paced in real time."""

    def __init__(self, hz):
        super().__init__()
        self.hz = hz

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        rate, samples = 8000, 160
        if hasattr(self, "_timestamp"):
            self._timestamp += samples
            wait = self._start + (self._timestamp / rate) - time.time()
            await asyncio.sleep(wait)
        else:
            self._start = time.time()
            self._timestamp = 0
        t = (numpy.arange(samples) + self._timestamp) / rate
        pcm = (0.5 * 32767 * numpy.sin(2 * math.pi * self.hz * t)).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.pts = self._timestamp
        frame.sample_rate = rate
        frame.time_base = fractions.Fraction(1, rate)
        return frame


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Recorder:
    """Writes what a remote audio track delivers to a WAV file."""

    def __init__(self, path):
        self.path = path
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        self.chunks = []
        self.task = None

    def start(self, track):
        if self.task is None:
            self.task = asyncio.ensure_future(self.run(track))

    async def run(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in self.resampler.resample(frame):
                self.chunks.append(out.to_ndarray().reshape(-1).astype(numpy.int16).tobytes())

    async def stop(self):
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        data = b"".join(self.chunks)
        with wave.open(self.path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(data)
        return len(data) / 2 / 8000


async def lines():
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        yield json.loads(line)


async def main(args):
    pc = RTCPeerConnection()
    rec = Recorder(args.record)
    sender = pc.addTrack(Sine(args.tone))
    transceiver = next(t for t in pc.getTransceivers() if t.sender == sender)

    @pc.on("track")
    def on_track(track):
        if track.kind == "audio":
            rec.start(track)

    @pc.on("connectionstatechange")
    async def on_state():
        say({"op": "state", "state": pc.connectionState})

    async def offer():
        await pc.setLocalDescription(await pc.createOffer())
        say({"op": "offer", "sdp": pc.localDescription.sdp})

    async for msg in lines():
        op = msg.get("op")
        try:
            if op == "offer":
                await offer()
            elif op == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
                say({"op": "ok"})
            elif op == "accept":
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                say({"op": "answer", "sdp": pc.localDescription.sdp})
            elif op == "direction":
                transceiver.direction = msg["dir"]
                await offer()
            elif op == "stop":
                break
            else:
                say({"op": "error", "error": "unknown op %r" % op})
        except Exception as e:  # report, keep serving: the test decides
            say({"op": "error", "error": "%s: %s" % (type(e).__name__, e)})
    seconds = await rec.stop()
    await pc.close()
    say({"op": "stopped", "seconds": seconds})


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--tone", type=float, default=440)
    p.add_argument("--record", required=True)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--max-seconds", type=float, default=120)
    args = p.parse_args()
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.address]
    try:
        asyncio.run(asyncio.wait_for(main(args), args.max_seconds))
    except asyncio.TimeoutError:
        say({"op": "error", "error": "max-seconds reached"})
        sys.exit(2)
