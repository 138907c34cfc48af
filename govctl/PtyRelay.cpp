#include "PtyRelay.hpp"

#include <algorithm>

namespace gov::govctl {

bool PtyRelay::wantInput() const {
    return phase_ == Phase::Relaying && !inputEnded_ && toMaster_.size() < options_.bufferLimit;
}

bool PtyRelay::wantMasterRead() const {
    return phase_ != Phase::Done && !masterEnded_ && toOutput_.size() < options_.bufferLimit;
}

std::optional<PtyRelay::Clock::time_point> PtyRelay::deadline() const {
    if (phase_ != Phase::Draining)
        return std::nullopt;
    const auto limit = drainStart_ + options_.drainLimit;
    if (!toOutput_.empty() || masterEnded_)
        return limit;  // output pending: only the limit ends it early
    return std::min(limit, std::max(lastMasterOutput_, drainStart_) + options_.quiet);
}

void PtyRelay::input(std::string_view bytes) {
    if (phase_ == Phase::Relaying)
        toMaster_.append(bytes);
}

void PtyRelay::inputEnded(std::optional<char> eofChar) {
    if (inputEnded_)
        return;
    inputEnded_ = true;
    if (eofChar && phase_ == Phase::Relaying)
        toMaster_.push_back(*eofChar);
}

void PtyRelay::masterOutput(std::string_view bytes, Clock::time_point now) {
    if (phase_ == Phase::Done)
        return;
    lastMasterOutput_ = now;
    if (!outputGone_)
        toOutput_.append(bytes);
}

void PtyRelay::masterEnded() {
    masterEnded_ = true;
    // Nothing can be written to a master whose slave is closed.
    toMaster_.clear();
}

void PtyRelay::masterWritten(size_t n) {
    toMaster_.erase(0, std::min(n, toMaster_.size()));
}

void PtyRelay::outputWritten(size_t n) {
    toOutput_.erase(0, std::min(n, toOutput_.size()));
}

void PtyRelay::outputFailed() {
    outputGone_ = true;
    toOutput_.clear();
}

void PtyRelay::workloadExited(Clock::time_point now) {
    if (phase_ != Phase::Relaying)
        return;
    phase_ = Phase::Draining;
    drainStart_ = now;
    toMaster_.clear();
}

void PtyRelay::hangUp() {
    phase_ = Phase::Done;
    toMaster_.clear();
}

bool PtyRelay::finished(Clock::time_point now) const {
    switch (phase_) {
        case Phase::Relaying:
            return false;
        case Phase::Done:
            return true;
        case Phase::Draining:
            if (now >= drainStart_ + options_.drainLimit)
                return true;
            if (!toOutput_.empty())
                return false;
            return masterEnded_ || now >= std::max(lastMasterOutput_, drainStart_) + options_.quiet;
    }
    return true;
}

}  // namespace gov::govctl
