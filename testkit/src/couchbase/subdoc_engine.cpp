#include "subdoc_engine.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <variant>

#include "cbes/util/crc32.hpp"

namespace cbes::testkit::couchbase {

namespace json = boost::json;
using mcbp::opcode;
using mcbp::status;

namespace {

// Path components: object member names, array indices (-1 = last).
using component = std::variant<std::string, long>;

std::optional<std::vector<component>> parse_path(std::string_view path) {
  std::vector<component> out;
  std::size_t i = 0;
  bool expect_name = true;
  while (i < path.size()) {
    char c = path[i];
    if (c == '[') {
      auto close = path.find(']', i);
      if (close == std::string_view::npos || close == i + 1)
        return std::nullopt;
      long v = 0;
      std::string digits(path.substr(i + 1, close - i - 1));
      char* end = nullptr;
      v = std::strtol(digits.c_str(), &end, 10);
      if (*end != '\0' || v < -1)
        return std::nullopt;
      out.emplace_back(v);
      i = close + 1;
      expect_name = false;
    } else if (c == '.') {
      if (expect_name)
        return std::nullopt;
      ++i;
      expect_name = true;
    } else {
      if (!expect_name)
        return std::nullopt;
      std::string name;
      if (c == '`') {
        ++i;
        for (;;) {
          if (i >= path.size())
            return std::nullopt;
          if (path[i] == '`') {
            if (i + 1 < path.size() && path[i + 1] == '`') {
              name += '`';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          name += path[i++];
        }
      } else {
        while (i < path.size() && path[i] != '.' && path[i] != '[')
          name += path[i++];
      }
      out.emplace_back(std::move(name));
      expect_name = false;
    }
  }
  if (expect_name && !out.empty())
    return std::nullopt;
  return out;
}

struct path_error {
  status code;
};

// Follows `path` from `root`; path_error enoent / mismatch.
std::variant<json::value*, path_error> navigate(json::value& root,
                                                const std::vector<component>& path,
                                                std::size_t count) {
  json::value* cur = &root;
  for (std::size_t i = 0; i < count; ++i) {
    if (auto* name = std::get_if<std::string>(&path[i])) {
      auto* obj = cur->if_object();
      if (!obj)
        return path_error{status::subdoc_path_mismatch};
      auto it = obj->find(*name);
      if (it == obj->end())
        return path_error{status::subdoc_path_enoent};
      cur = &it->value();
    } else {
      long idx = std::get<long>(path[i]);
      auto* arr = cur->if_array();
      if (!arr)
        return path_error{status::subdoc_path_mismatch};
      if (arr->empty() || (idx >= 0 && static_cast<std::size_t>(idx) >= arr->size()))
        return path_error{status::subdoc_path_enoent};
      cur = idx < 0 ? &arr->back() : &(*arr)[static_cast<std::size_t>(idx)];
    }
  }
  return cur;
}

std::optional<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec)
    return std::nullopt;
  return v;
}

// Values of multi-value array pushes are comma-separated JSON values.
std::optional<json::array> parse_values(std::string_view text) {
  auto v = parse_json("[" + std::string(text) + "]");
  if (!v || !v->is_array() || v->as_array().empty())
    return std::nullopt;
  return v->as_array();
}

std::string hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json::object document_vattr(const item& doc, const vattr_context& ctx) {
  char crc[11];
  std::snprintf(crc, sizeof crc, "0x%08x", util::crc32(doc.body));
  json::array datatype;
  if (doc.json)
    datatype.emplace_back("json");
  if (!doc.xattrs.empty())
    datatype.emplace_back("xattr");
  if (datatype.empty())
    datatype.emplace_back("raw");
  return {{"CAS", hex64(doc.cas)},
          {"vbucket_uuid", hex64(ctx.vbucket_uuid)},
          {"seqno", hex64(doc.seqno)},
          {"revid", std::to_string(doc.rev_seqno)},
          {"exptime", doc.expiry},
          {"value_bytes", doc.body.size()},
          {"value_crc32c", crc},
          {"datatype", std::move(datatype)},
          {"deleted", doc.deleted()},
          {"flags", doc.flags},
          {"last_modified", std::to_string(doc.cas / 1000000000)}};
}

struct xattr_target {
  std::string key;
  std::vector<component> rest;
};

// The xattr key is the first component of an xattr path.
std::optional<xattr_target> split_xattr_path(std::string_view path) {
  auto parsed = parse_path(path);
  if (!parsed || parsed->empty() || !std::holds_alternative<std::string>(parsed->front()))
    return std::nullopt;
  xattr_target t{std::get<std::string>(parsed->front()), {}};
  t.rest.assign(parsed->begin() + 1, parsed->end());
  return t;
}

mcbp::xattr* find_xattr(std::vector<mcbp::xattr>& xs, std::string_view key) {
  for (auto& x : xs)
    if (x.key == key)
      return &x;
  return nullptr;
}

// Lookup on one JSON value (body or one xattr).
mcbp::subdoc_lookup_result lookup_in(json::value& root, const std::vector<component>& path,
                                     opcode op) {
  auto found = navigate(root, path, path.size());
  if (auto* e = std::get_if<path_error>(&found))
    return {e->code, {}};
  json::value* v = std::get<json::value*>(found);
  switch (op) {
    case opcode::subdoc_exists:
      return {status::success, {}};
    case opcode::subdoc_get_count:
      if (auto* a = v->if_array())
        return {status::success, std::to_string(a->size())};
      if (auto* o = v->if_object())
        return {status::success, std::to_string(o->size())};
      return {status::subdoc_path_mismatch, {}};
    default:
      return {status::success, json::serialize(*v)};
  }
}

}  // namespace

bool is_json(std::string_view text) {
  return !text.empty() && parse_json(text).has_value();
}

lookup_outcome run_lookup(const item& doc, const std::vector<mcbp::subdoc_lookup_spec>& specs,
                          const vattr_context& ctx) {
  lookup_outcome out;
  std::optional<json::value> body;
  bool body_parsed = false;
  bool seen_body = false;
  for (const auto& spec : specs) {
    mcbp::subdoc_lookup_result r;
    bool xattr = (spec.flags & mcbp::subdoc_path_flag::xattr) != 0;
    if (xattr && seen_body) {
      return {status::subdoc_invalid_xattr_order, {}};
    }
    seen_body = seen_body || !xattr;
    if (xattr) {
      auto target = split_xattr_path(spec.path);
      if (!target) {
        r.status = status::subdoc_path_einval;
      } else if (!target->key.empty() && target->key.front() == '$') {
        json::value v;
        if (target->key == "$document")
          v = document_vattr(doc, ctx);
        else if (target->key == "$vbucket")
          v = json::object{
              {"HLC", json::object{{"now", std::to_string(ctx.now)}, {"mode", "real"}}}};
        else if (target->key == "$XTOC") {
          json::array keys;
          for (const auto& x : doc.xattrs)
            keys.emplace_back(x.key);
          v = std::move(keys);
        } else {
          r.status = status::subdoc_xattr_unknown_vattr;
        }
        if (r.status == status::success)
          r = lookup_in(v, target->rest, spec.op);
      } else if (auto* x = find_xattr(const_cast<item&>(doc).xattrs, target->key)) {
        auto v = parse_json(x->value);
        if (!v)
          r.status = status::subdoc_doc_not_json;
        else
          r = lookup_in(*v, target->rest, spec.op);
      } else {
        r.status = status::subdoc_path_enoent;
      }
    } else if (spec.op == opcode::get && spec.path.empty()) {
      r.value = doc.body;
    } else {
      if (!body_parsed) {
        body = doc.json ? parse_json(doc.body) : std::nullopt;
        body_parsed = true;
      }
      auto path = parse_path(spec.path);
      if (!body)
        r.status = status::subdoc_doc_not_json;
      else if (!path)
        r.status = status::subdoc_path_einval;
      else
        r = lookup_in(*body, *path, spec.op);
    }
    if (r.status != status::success)
      out.status = status::subdoc_multi_path_failure;
    out.results.push_back(std::move(r));
  }
  if (doc.deleted())
    out.status = out.status == status::success ? status::subdoc_success_deleted
                                               : status::subdoc_multi_path_failure_deleted;
  return out;
}

namespace {

// One mutation spec on a JSON root; the counter result (if any) goes to `result`.
status mutate_in(json::value& root, const std::vector<component>& path,
                 const mcbp::subdoc_mutation_spec& spec, std::string& result) {
  bool mkdir = (spec.flags & mcbp::subdoc_path_flag::mkdir_p) != 0;
  const bool array_op = spec.op == opcode::subdoc_array_push_last ||
                        spec.op == opcode::subdoc_array_push_first ||
                        spec.op == opcode::subdoc_array_add_unique;
  if (array_op) {
    auto found = navigate(root, path, path.size());
    json::value* target = nullptr;
    if (auto* e = std::get_if<path_error>(&found)) {
      if (e->code != status::subdoc_path_enoent || !mkdir || path.empty())
        return e->code;
      // mkdir_p: create the missing array (and its missing parents).
      json::value* cur = &root;
      for (const auto& c : path) {
        auto* name = std::get_if<std::string>(&c);
        auto* obj = cur->if_object();
        if (!name || !obj)
          return status::subdoc_path_mismatch;
        auto it = obj->find(*name);
        cur = it == obj->end() ? &(*obj)[*name] : &it->value();
        if (cur->is_null() && &c != &path.back())
          *cur = json::object{};
      }
      *cur = json::array{};
      target = cur;
    } else {
      target = std::get<json::value*>(found);
    }
    auto* arr = target->if_array();
    if (!arr)
      return status::subdoc_path_mismatch;
    auto values = parse_values(spec.value);
    if (!values)
      return status::subdoc_value_cantinsert;
    if (spec.op == opcode::subdoc_array_add_unique) {
      if (values->size() != 1 || values->front().is_structured())
        return status::subdoc_value_cantinsert;
      for (const auto& e : *arr) {
        if (e.is_structured())
          return status::subdoc_path_mismatch;
        if (e == values->front())
          return status::subdoc_path_eexists;
      }
      arr->push_back(values->front());
    } else if (spec.op == opcode::subdoc_array_push_last) {
      for (auto& v : *values)
        arr->push_back(v);
    } else {
      arr->insert(arr->begin(), values->begin(), values->end());
    }
    return status::success;
  }

  if (path.empty())
    return status::subdoc_path_einval;
  auto parent_found = navigate(root, path, path.size() - 1);
  json::value* parent = nullptr;
  if (auto* e = std::get_if<path_error>(&parent_found)) {
    bool creates = spec.op == opcode::subdoc_dict_add || spec.op == opcode::subdoc_dict_upsert ||
                   spec.op == opcode::subdoc_counter;
    if (e->code != status::subdoc_path_enoent || !mkdir || !creates)
      return e->code;
    json::value* cur = &root;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      auto* name = std::get_if<std::string>(&path[i]);
      auto* obj = cur->if_object();
      if (!name || !obj)
        return status::subdoc_path_mismatch;
      auto it = obj->find(*name);
      if (it == obj->end())
        cur = &(obj->emplace(*name, json::object{}).first->value());
      else
        cur = &it->value();
    }
    parent = cur;
  } else {
    parent = std::get<json::value*>(parent_found);
  }
  const component& last = path.back();
  auto* obj = parent->if_object();
  auto* arr = parent->if_array();
  auto* name = std::get_if<std::string>(&last);
  if ((name && !obj) || (!name && !arr))
    return status::subdoc_path_mismatch;

  json::value* existing = nullptr;
  std::size_t arr_index = 0;
  if (name) {
    auto it = obj->find(*name);
    existing = it == obj->end() ? nullptr : &it->value();
  } else {
    long idx = std::get<long>(last);
    arr_index = idx < 0 ? (arr->empty() ? 0 : arr->size() - 1) : static_cast<std::size_t>(idx);
    if (idx < 0 ? !arr->empty() : arr_index < arr->size())
      existing = &(*arr)[arr_index];
  }

  switch (spec.op) {
    case opcode::subdoc_dict_add:
    case opcode::subdoc_dict_upsert: {
      if (!name)
        return status::subdoc_path_mismatch;
      if (existing && spec.op == opcode::subdoc_dict_add)
        return status::subdoc_path_eexists;
      auto v = parse_json(spec.value);
      if (!v)
        return status::subdoc_value_cantinsert;
      (*obj)[*name] = std::move(*v);
      return status::success;
    }
    case opcode::subdoc_replace: {
      if (!existing)
        return status::subdoc_path_enoent;
      auto v = parse_json(spec.value);
      if (!v)
        return status::subdoc_value_cantinsert;
      *existing = std::move(*v);
      return status::success;
    }
    case opcode::subdoc_delete:
      if (!existing)
        return status::subdoc_path_enoent;
      if (name)
        obj->erase(*name);
      else
        arr->erase(arr->begin() + static_cast<std::ptrdiff_t>(arr_index));
      return status::success;
    case opcode::subdoc_array_insert: {
      if (name)
        return status::subdoc_path_einval;
      long idx = std::get<long>(last);
      if (idx < 0 || static_cast<std::size_t>(idx) > arr->size())
        return idx < 0 ? status::subdoc_path_einval : status::subdoc_path_enoent;
      auto values = parse_values(spec.value);
      if (!values)
        return status::subdoc_value_cantinsert;
      arr->insert(arr->begin() + idx, values->begin(), values->end());
      return status::success;
    }
    case opcode::subdoc_counter: {
      auto delta = parse_json(spec.value);
      if (!delta || !delta->is_int64() || delta->as_int64() == 0)
        return status::subdoc_delta_einval;
      std::int64_t base = 0;
      if (existing) {
        if (!existing->is_int64())
          return status::subdoc_path_mismatch;
        base = existing->as_int64();
      }
      std::int64_t next = 0;
      if (__builtin_add_overflow(base, delta->as_int64(), &next))
        return status::subdoc_value_cantinsert;
      if (existing)
        *existing = next;
      else if (name)
        (*obj)[*name] = next;
      else
        return status::subdoc_path_enoent;
      result = std::to_string(next);
      return status::success;
    }
    default:
      return status::unknown_command;
  }
}

std::string expand_macros(std::string value, std::uint64_t cas, std::uint64_t seqno,
                          const std::string& body) {
  auto replace = [&value](std::string_view macro, const std::string& with) {
    for (auto pos = value.find(macro); pos != std::string::npos; pos = value.find(macro))
      value.replace(pos, macro.size(), with);
  };
  char crc[13];
  std::snprintf(crc, sizeof crc, "\"0x%08x\"", util::crc32(body));
  replace("\"${Mutation.CAS}\"", "\"" + hex64(__builtin_bswap64(cas)) + "\"");
  replace("\"${Mutation.seqno}\"", "\"" + hex64(seqno) + "\"");
  replace("\"${Mutation.value_crc32c}\"", crc);
  return value;
}

}  // namespace

mutation_outcome run_mutation(item& doc, const std::vector<mcbp::subdoc_mutation_spec>& specs,
                              std::uint64_t new_cas, std::uint64_t new_seqno) {
  mutation_outcome out;
  item work = doc;
  std::optional<json::value> body;
  bool body_dirty = false;
  bool seen_body = false;
  auto fail = [&out](std::size_t index, status s) {
    out.status = status::subdoc_multi_path_failure;
    out.failed_index = static_cast<std::uint8_t>(index);
    out.failed_status = s;
    out.results.clear();
    return out;
  };
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    bool xattr = (spec.flags & mcbp::subdoc_path_flag::xattr) != 0;
    if (xattr && seen_body)
      return mutation_outcome{status::subdoc_invalid_xattr_order, 0, status::success, {}, false};
    seen_body = seen_body || !xattr;
    std::string result;
    status s = status::success;
    if (xattr) {
      auto target = split_xattr_path(spec.path);
      if (!target)
        return fail(i, status::subdoc_path_einval);
      if (!target->key.empty() && target->key.front() == '$')
        return fail(i, status::subdoc_xattr_cant_modify_vattr);
      std::string value = spec.value;
      if (spec.flags & mcbp::subdoc_path_flag::expand_macros)
        value = expand_macros(value, new_cas, new_seqno, work.body);
      auto* x = find_xattr(work.xattrs, target->key);
      if (target->rest.empty()) {
        // The whole xattr is the target.
        switch (spec.op) {
          case opcode::subdoc_dict_add:
          case opcode::subdoc_dict_upsert:
          case opcode::subdoc_replace: {
            if (x && spec.op == opcode::subdoc_dict_add)
              return fail(i, status::subdoc_path_eexists);
            if (!x && spec.op == opcode::subdoc_replace)
              return fail(i, status::subdoc_path_enoent);
            if (!parse_json(value))
              return fail(i, status::subdoc_value_cantinsert);
            if (x)
              x->value = value;
            else
              work.xattrs.push_back({target->key, value});
            continue;
          }
          case opcode::subdoc_delete:
            if (!x)
              return fail(i, status::subdoc_path_enoent);
            std::erase_if(work.xattrs, [&](const mcbp::xattr& e) { return e.key == target->key; });
            continue;
          default:
            break;
        }
      }
      json::value root = json::object{};
      if (x) {
        auto parsed = parse_json(x->value);
        if (!parsed)
          return fail(i, status::subdoc_doc_not_json);
        root = std::move(*parsed);
      } else if (!(spec.flags & mcbp::subdoc_path_flag::mkdir_p)) {
        return fail(i, status::subdoc_path_enoent);
      }
      auto spec_copy = spec;
      spec_copy.value = value;
      s = mutate_in(root, target->rest, spec_copy, result);
      if (s != status::success)
        return fail(i, s);
      if (x)
        x->value = json::serialize(root);
      else
        work.xattrs.push_back({target->key, json::serialize(root)});
    } else if (spec.op == opcode::set && spec.path.empty()) {
      work.body = spec.value;
      work.json = is_json(spec.value);
      body.reset();
      body_dirty = false;
    } else if (spec.op == opcode::remove && spec.path.empty()) {
      out.delete_document = true;
    } else {
      if (!body) {
        body = work.json ? parse_json(work.body) : std::nullopt;
        if (!body)
          return fail(i, status::subdoc_doc_not_json);
      }
      auto path = parse_path(spec.path);
      if (!path)
        return fail(i, status::subdoc_path_einval);
      s = mutate_in(*body, *path, spec, result);
      if (s != status::success)
        return fail(i, s);
      body_dirty = true;
    }
    if (!result.empty())
      out.results.push_back({static_cast<std::uint8_t>(i), status::success, result});
  }
  if (body_dirty) {
    work.body = json::serialize(*body);
    work.json = true;
  }
  doc = std::move(work);
  return out;
}

}  // namespace cbes::testkit::couchbase
