// The page of interop-tests/webrtc_chrome_test.go. It takes commands from
// the test's HTTP server (GET /cmd, long poll) and reports what happens
// (POST /event): a JsSIP user agent registered over the node's WebSocket
// listener calls or answers, sends a 440 Hz OscillatorNode track (no
// capture processing: it is not a microphone), and an AnalyserNode on the
// remote track reports the dominant frequency every second.
'use strict';

const report = (ev) => fetch('/event', { method: 'POST', body: JSON.stringify(ev) }).catch(() => {});
const log = (msg) => report({ ev: 'log', msg: String(msg) });
window.onerror = (msg, src, line) => log('error: ' + msg + ' at ' + src + ':' + line);

let ctx, tone, ua, session, meter;

// Only UDP host candidates on 127.0.0.1 leave the page: Chromium (with
// --allow-loopback-in-peer-connection) also gathers the machine's other
// addresses, which the tests must not use.
function loopbackOnly(sdp) {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(l)).join('\r\n');
}

function audio() {
  if (!ctx) {
    ctx = new AudioContext({ sampleRate: 48000 });
    const osc = ctx.createOscillator();
    osc.frequency.value = 440;
    const gain = ctx.createGain();
    gain.gain.value = 0.5;
    const dst = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    tone = dst.stream;
  }
  return tone;
}

// measure reports, every second, the strongest frequency of the remote
// audio and its share of the spectrum's energy (a clean tone: near 1).
function measure(track) {
  stopMeasure();
  const stream = new MediaStream([track]);
  document.getElementById('remote').srcObject = stream; // Chromium feeds WebAudio only from an attached stream
  const src = ctx.createMediaStreamSource(stream);
  const an = ctx.createAnalyser();
  an.fftSize = 16384;
  an.smoothingTimeConstant = 0;
  src.connect(an);
  const db = new Float32Array(an.frequencyBinCount);
  let n = 0;
  const timer = setInterval(() => {
    if (++n > 600) { stopMeasure(); return; } // bounded: 10 minutes
    an.getFloatFrequencyData(db);
    let best = 1, total = 0;
    const p = new Float64Array(db.length);
    for (let i = 1; i < db.length; i++) {
      p[i] = isFinite(db[i]) ? Math.pow(10, db[i] / 10) : 0;
      total += p[i];
      if (p[i] > p[best]) best = i;
    }
    let near = 0;
    for (let j = best - 3; j <= best + 3; j++) if (j > 0 && j < p.length) near += p[j];
    // Parabolic interpolation between the bins around the peak (in dB).
    let off = 0;
    if (best > 1 && best < db.length - 1 && isFinite(db[best - 1]) && isFinite(db[best + 1])) {
      const a = db[best - 1], b = db[best], c = db[best + 1];
      const d = a - 2 * b + c;
      if (d !== 0) off = 0.5 * (a - c) / d;
    }
    const hz = (best + off) * ctx.sampleRate / an.fftSize;
    report({ ev: 'freq', hz, share: total > 0 ? near / total : 0, db: db[best] });
  }, 1000);
  meter = { timer, src, an };
}

function stopMeasure() {
  if (meter) {
    clearInterval(meter.timer);
    meter.src.disconnect();
    meter = null;
  }
}

function watch(s) {
  session = s;
  s.on('sdp', (e) => { if (e.originator === 'local') e.sdp = loopbackOnly(e.sdp); });
  s.on('peerconnection', (e) => {
    e.peerconnection.addEventListener('track', (t) => { if (t.track.kind === 'audio') measure(t.track); });
  });
  s.on('progress', () => report({ ev: 'progress' }));
  s.on('confirmed', () => {
    const pc = s.connection;
    if (pc) {
      for (const r of pc.getReceivers()) if (r.track && r.track.kind === 'audio' && !meter) measure(r.track);
    }
    report({ ev: 'confirmed', direction: s.direction });
  });
  s.on('ended', (e) => { stopMeasure(); report({ ev: 'ended', originator: e.originator, cause: e.cause }); });
  s.on('failed', (e) => { stopMeasure(); report({ ev: 'failed', originator: e.originator, cause: e.cause }); });
  s.on('newDTMF', (e) => {
    if (e.originator === 'remote') report({ ev: 'dtmf', tone: e.dtmf.tone, duration: e.dtmf.duration });
  });
  s.on('newInfo', (e) => {
    if (e.originator === 'remote') report({ ev: 'info', contentType: e.info.contentType, body: e.info.body });
  });
}

const options = () => ({
  mediaStream: audio(),
  mediaConstraints: { audio: true, video: false },
  pcConfig: { iceServers: [] },
});

function register(cfg) {
  JsSIP.debug.disable('JsSIP:*');
  const socket = new JsSIP.WebSocketInterface(cfg.ws);
  ua = new JsSIP.UA({ sockets: [socket], uri: 'sip:' + cfg.user + '@' + cfg.domain, password: cfg.password,
    register: true, register_expires: 600, user_agent: 'parley-interop JsSIP ' + JsSIP.version });
  ua.on('registered', () => report({ ev: 'registered', version: JsSIP.version, ua: navigator.userAgent }));
  ua.on('registrationFailed', (e) => report({ ev: 'registrationFailed', cause: e.cause }));
  ua.on('newRTCSession', (e) => {
    if (e.originator !== 'remote') return;
    watch(e.session);
    report({ ev: 'incoming', from: e.request.from.uri.toString() });
    e.session.answer(options());
  });
  ua.start();
}

const commands = {
  register: (c) => register(c),
  call: (c) => { watch(ua.call(c.target, options())); },
  hangup: () => { if (session) session.terminate(); },
  // ice: the ICE candidate pairs Chromium tried (the test checks that
  // every check went between loopback addresses).
  ice: async () => {
    const st = await session.connection.getStats();
    const cands = {};
    let selected;
    st.forEach((r) => {
      if (r.type === 'local-candidate' || r.type === 'remote-candidate') cands[r.id] = r.address + ':' + r.port;
      if (r.type === 'transport') selected = r.selectedCandidatePairId;
    });
    const pairs = [];
    st.forEach((r) => {
      if (r.type === 'candidate-pair') {
        pairs.push({ local: cands[r.localCandidateId], remote: cands[r.remoteCandidateId], state: r.state,
          requests: r.requestsSent || 0, nominated: !!r.nominated, selected: r.id === selected });
      }
    });
    report({ ev: 'ice', pairs });
  },
  info: (c) => {
    session.sendInfo(c.contentType, c.body);
    report({ ev: 'info-sent', contentType: c.contentType });
  },
  dtmf: (c) => {
    session.sendDTMF(c.tones, { transportType: c.transport, duration: c.duration || 160, interToneGap: c.gap || 100 });
    report({ ev: 'dtmf-sent', tones: c.tones, transport: c.transport });
  },
};

(async () => {
  audio();
  const deadline = Date.now() + 10 * 60 * 1000;
  for (let i = 0; i < 5000 && Date.now() < deadline; i++) { // bounded in count and time
    let cmd;
    try {
      const res = await fetch('/cmd');
      if (res.status === 410) return; // the test is over
      cmd = res.status === 200 ? await res.json() : null;
    } catch (e) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (!cmd) continue;
    try {
      await commands[cmd.op](cmd);
    } catch (e) {
      report({ ev: 'error', op: cmd.op, msg: String(e) });
    }
  }
})();
