#!/usr/bin/env bash
# Regenerates the synthetic demo calls in this folder (the audio only; the JSON sidecars are
# written by hand and kept in git). Run by hand, never by setup or the tests:
#
#     apt-get install -y flite sox ffmpeg && sample_audio/make_samples.sh
#
# Voices are flite's (rms, slt, awb), slowed by 15%: on these scripts, band-limited to 8 kHz,
# faster-whisper tiny.en made two to three times fewer word errors on them than on espeak-ng's.
# Opus gets 32 kbit/s: at 24 kbit/s its joint stereo leaks each party into the other channel
# (-26 dB, enough for Whisper to transcribe the wrong side); at 32 kbit/s the leak is -56 dB.
# Output is deterministic for a given flite/sox/ffmpeg version.
#
#   2024-05-06_double_charge.wav   stereo, 8 kHz mu-law, agent left / customer right, overtalk
#   2024-05-08_refund_callback.wav mono, 8 kHz mu-law, the same customer called back; she answers
#                                  first, as a callee does, which is what the mono role rule for
#                                  outbound calls relies on (no channels say who is the agent)
#   2024-05-13_outage_credit.opus  stereo Ogg/Opus, another customer, the first agent again
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# say VOICE TEXT OUT: one utterance as 16 kHz mono, peak-normalized so voices sit at one level.
say() {
    flite -voice "$1" --setf duration_stretch=1.15 -t "$2" -o "$work/raw.wav"
    sox -R "$work/raw.wav" -r 16000 "$3" norm -6
}

# mix OUT FILE...: sum files that start at zero (sox -m needs two inputs and would halve each).
mix() {
    local out=$1
    shift
    if (($# == 1)); then
        cp "$1" "$out"
    else
        local args=()
        for f in "$@"; do args+=(-v 1 "$f"); done
        sox -R -m "${args[@]}" "$out"
    fi
}

# script_to_sides: reads "SIDE|VOICE|GAP|TEXT" lines; SIDE is L or R, GAP the seconds after the
# previous utterance ends (negative: the speaker talks over it). Writes $work/L.wav and $work/R.wav.
script_to_sides() {
    local t=0 n=0 side voice gap text start
    local -a left=() right=()
    while IFS='|' read -r side voice gap text; do
        [[ -z $side || $side == \#* ]] && continue
        n=$((n + 1))
        say "$voice" "$text" "$work/u$n.wav"
        start=$(awk -v t="$t" -v g="$gap" 'BEGIN { s = t + g; if (s < 0) s = 0; printf "%.3f", s }')
        sox -R "$work/u$n.wav" "$work/p$n.wav" pad "$start"
        if [[ $side == L ]]; then left+=("$work/p$n.wav"); else right+=("$work/p$n.wav"); fi
        t=$(awk -v s="$start" -v d="$(soxi -D "$work/u$n.wav")" 'BEGIN { printf "%.3f", s + d }')
    done
    mix "$work/L.wav" "${left[@]}"
    mix "$work/R.wav" "${right[@]}"
}

# Telephone band, as a PBX records it.
PHONE=(sinc 300-3400)

script_to_sides <<'EOF'
L|rms|0.4|Thank you for calling Earshot Telecom, my name is Sam. How can I help you today?
R|slt|0.6|Hi Sam. I was charged twice on my last bill. I see two payments of forty nine euros.
L|rms|0.5|I am sorry about that. Can I have your account number, please?
R|slt|0.5|Yes, my account number is four eight two nine one three.
L|rms|0.7|Thank you, Emma. I can see the double charge on your May invoice.
R|slt|-0.6|Right.
L|rms|0.3|I will refund forty nine euros to your bank account. It takes five to seven working days.
R|slt|-0.4|Okay, that works for me. Thank you.
L|rms|0.4|You are welcome. Is there anything else I can help you with?
R|slt|0.5|No, that is all. Goodbye.
L|rms|0.3|Goodbye, and thank you for calling Earshot Telecom.
EOF
sox -R -M "$work/L.wav" "$work/R.wav" -r 8000 -e u-law 2024-05-06_double_charge.wav "${PHONE[@]}"

script_to_sides <<'EOF'
R|slt|0.5|Hello, Emma de Vries speaking.
L|awb|0.5|Hello Emma, this is Daan from Earshot Telecom. I am calling about your refund of forty nine euros.
R|slt|0.6|Oh good. I have not seen it in my bank account yet.
L|awb|0.5|The refund was approved today. You will see it within three working days.
R|slt|0.6|Great. Can you also send me a confirmation by email?
L|awb|0.5|Of course. I will send it to your email address right now.
R|slt|0.5|Perfect, thank you very much.
L|awb|0.4|Thank you, Emma. Have a nice day.
EOF
sox -R -m -v 1 "$work/L.wav" -v 1 "$work/R.wav" -r 8000 -e u-law 2024-05-08_refund_callback.wav "${PHONE[@]}"

script_to_sides <<'EOF'
L|rms|0.4|Good morning, Earshot Telecom, you are speaking with Sam.
R|awb|0.6|Good morning. My internet has been down since yesterday evening.
L|rms|0.5|I am sorry to hear that. Can I have your account number, please?
R|awb|0.5|It is seven seven one two zero four.
L|rms|0.6|Thank you, Peter. There is a fault in your area, and our engineers are working on it.
R|awb|-0.5|When will it be fixed?
L|rms|0.4|It should be fixed by six o'clock tonight. I will add a credit of ten euros to your next bill.
R|awb|0.5|Thank you, that is fair.
L|rms|0.4|You are welcome. Goodbye.
EOF
sox -R -M "$work/L.wav" "$work/R.wav" -r 8000 "$work/outage.wav" "${PHONE[@]}"
ffmpeg -loglevel error -y -i "$work/outage.wav" -c:a libopus -b:a 32k -map_metadata -1 \
    -fflags +bitexact -flags:a +bitexact 2024-05-13_outage_credit.opus

ls -l ./*.wav ./*.opus
