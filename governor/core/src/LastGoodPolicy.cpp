#include "gov/core/LastGoodPolicy.hpp"

#include <nlohmann/json.hpp>

#include "gov/core/StateFiles.hpp"

namespace gov::core {

using nlohmann::json;

std::string lastGoodToJson(const std::vector<policies::PolicySource>& sources) {
    json list = json::array();
    for (const auto& s : sources)
        list.push_back({{"name", s.name}, {"text", s.text}});
    return json{{"version", 1}, {"sources", list}}.dump(2) + "\n";
}

Result<std::vector<policies::PolicySource>> lastGoodFromJson(const std::string& text) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
        return Error::withReason("last good policy", "not a JSON object (damaged or truncated)");
    auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || version->get<int>() != 1)
        return Error::withReason("last good policy", "unknown or missing \"version\" (expected 1)");
    auto list = doc.find("sources");
    if (list == doc.end() || !list->is_array())
        return Error::withReason("last good policy", "missing \"sources\" array");
    std::vector<policies::PolicySource> out;
    for (const auto& s : *list) {
        auto name = s.find("name");
        auto body = s.find("text");
        if (!s.is_object() || name == s.end() || !name->is_string() || body == s.end() ||
            !body->is_string()) {
            return Error::withReason("last good policy", "a source without \"name\" and \"text\"");
        }
        out.push_back({name->get<std::string>(), body->get<std::string>()});
    }
    return out;
}

Result<void> LastGoodPolicy::save(const std::vector<policies::PolicySource>& sources) {
    if (saved_ && *saved_ == sources)
        return success();
    GOV_TRY(replaceFileAtomically(dir_, path(), lastGoodToJson(sources)));
    saved_ = sources;
    return success();
}

Result<std::optional<std::vector<policies::PolicySource>>> LastGoodPolicy::load(
    std::chrono::system_clock::time_point now) {
    auto text = readStateFile(path());
    if (!text && text.error().code() == std::errc::no_such_file_or_directory)
        return std::optional<std::vector<policies::PolicySource>>();
    if (text) {
        auto sources = lastGoodFromJson(*text);
        if (sources) {
            saved_ = *sources;
            return std::optional<std::vector<policies::PolicySource>>(std::move(*sources));
        }
        text = Error(sources.error()).wrap(path());
    }
    auto moved = setAside(path(), now);
    return Error::withReason(
        text.error().message(),
        moved ? "set aside as " + *moved : "cannot set it aside: " + moved.error().message());
}

policies::CompileResult compileLastGood(const std::vector<policies::PolicySource>& sources) {
    if (sources.empty()) {
        policies::CompileResult r;
        r.policy = policies::defaultPolicy();
        return r;
    }
    auto r = policies::compile(sources);
    r.sources = sources;
    return r;
}

}  // namespace gov::core
