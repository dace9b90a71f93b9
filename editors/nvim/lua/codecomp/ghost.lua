--- Ghost text for Neovim 0.10/0.11 (0.12 has vim.lsp.inline_completion): asks the server for
--- textDocument/inlineCompletion after a debounce, paints the suggestion as extmarks (virt_text on
--- the cursor line, virt_lines below) and repaints it from codecomp/completionStream notifications.
local compat = require("codecomp.compat")

local api = vim.api
local uv = vim.uv or vim.loop

local M = {}

M.ns = api.nvim_create_namespace("codecomp")
M.SHOW_METHOD = "codecomp/didShow"
M.ACCEPT_METHOD = "codecomp/didAccept"
M.DISMISS_METHOD = "codecomp/didDismiss"
M.ACCEPT_COMMAND = "codecomp.didAcceptInline" -- the command of every inline item of the server

local METHOD = "textDocument/inlineCompletion"
local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

---@class codecomp.Item
---@field text string   text to insert at the anchor
---@field end_col? integer  byte column (same row) up to which the item replaces text
---@field id? string  the server's id for it (codecomp/didShow, didAccept, didDismiss)

---@class codecomp.Request
---@field id? integer
---@field row integer
---@field col integer
---@field tick integer
---@field uri string
---@field version? integer
---@field position table
---@field invoked boolean
---@field cycle? integer

---@class codecomp.State
---@field client_id integer
---@field timer? uv.uv_timer_t
---@field request? codecomp.Request
---@field items? codecomp.Item[]
---@field index integer
---@field anchor? { row: integer, col: integer, tick: integer }
---@field invoked boolean  items came from an Invoked request (all candidates)
---@field typed? { char: string, row: integer, col: integer }
---@field own_tick? integer changedtick of our own edit (accepting)
---@field painted boolean  the suggestion is on screen (not hidden behind the completion menu)
---@field final? boolean  the items are the server's answer, not streamed partial text
---@field reported? string  the id last reported shown (codecomp/didShow)
---@field counters table
local buffers = {} ---@type table<integer, codecomp.State>

local enabled = true

local function config()
  return require("codecomp").config.ghost_text
end

local function hl()
  return "CodecompSuggestion"
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert()
  local mode = api.nvim_get_mode().mode
  return mode:sub(1, 1) == "i"
end

local function client_of(st)
  local client = vim.lsp.get_client_by_id(st.client_id)
  if client and not compat.is_stopped(client) then
    return client
  end
end

--- The id the server put in an inline item's command arguments (nil for streamed text).
local function item_id(entry)
  local args = type(entry.command) == "table" and entry.command.arguments
  local first = type(args) == "table" and args[1]
  return type(first) == "table" and type(first.id) == "string" and first.id or nil
end

--- Tells the server what became of a suggestion (features/feedback.py on its side).
local function report(st, method, params)
  local client = client_of(st)
  if client and params.id then
    pcall(compat.notify, client, method, params)
  end
end

local function kind_of(mode)
  return (mode == "word" or mode == "line") and mode or "full"
end

-- Rendering ---------------------------------------------------------------------------------------

local function clear_marks(bufnr)
  local st = buffers[bufnr]
  if st then
    st.painted = false
  end
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

local function hide(bufnr)
  local st = buffers[bufnr]
  if st then
    st.items, st.anchor, st.typed, st.invoked = nil, nil, nil, false
  end
  clear_marks(bufnr)
end

local function display(bufnr, line)
  local ts = vim.bo[bufnr].tabstop
  return (line:gsub("\t", string.rep(" ", ts > 0 and ts or 8)))
end

local function render(bufnr)
  local st = buffers[bufnr]
  clear_marks(bufnr)
  if not st or not st.items or not st.anchor then
    return
  end
  local item = st.items[st.index]
  if not item or item.text == "" then
    return
  end
  if config().hide_during_menu and vim.fn.pumvisible() == 1 then
    return
  end
  local lines = vim.split(item.text, "\n", { plain = true })
  local first = { { display(bufnr, lines[1]), hl() } }
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { display(bufnr, lines[i]), hl() } }
  end
  if #st.items > 1 then
    local index = (" (%d/%d)"):format(st.index, #st.items)
    local target = #virt_lines > 0 and virt_lines[#virt_lines] or first
    target[#target + 1] = { index, "CodecompSuggestionIndex" }
  end
  local line = api.nvim_buf_get_lines(bufnr, st.anchor.row, st.anchor.row + 1, false)[1] or ""
  local col = math.min(st.anchor.col, #line)
  local pos = "inline" -- 0.10+: the rest of the line moves right of the suggestion
  if vim.fn.has("nvim-0.10") == 0 then
    pos = col >= #line and "eol" or "overlay"
  end
  local opts = { virt_text = first, virt_text_pos = pos, hl_mode = "combine", priority = 200 }
  if #virt_lines > 0 then
    opts.virt_lines = virt_lines
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, st.anchor.row, col, opts)
  st.painted = true
  if item.id and st.reported ~= item.id then
    st.reported = item.id
    report(st, M.SHOW_METHOD, { id = item.id })
  end
end

--- Shows `items` at (row, col). `final`: the server's answer (false: streamed, still decoding).
local function show(bufnr, items, row, col, invoked, final)
  local st = buffers[bufnr]
  if not st then
    return
  end
  st.final = final
  local previous = st.items and st.items[st.index] and st.items[st.index].text
  st.items = items
  st.index = 1
  st.invoked = invoked or false
  st.anchor = { row = row, col = col, tick = api.nvim_buf_get_changedtick(bufnr) }
  -- Keep showing the candidate the user was looking at when more candidates arrive.
  if previous then
    for i, item in ipairs(items) do
      if item.text == previous then
        st.index = i
        break
      end
    end
  end
  render(bufnr)
end

-- Requests ----------------------------------------------------------------------------------------

local function stop_timer(st)
  if st.timer then
    st.timer:stop()
  end
end

local function cancel(bufnr)
  local st = buffers[bufnr]
  if not st then
    return
  end
  stop_timer(st)
  local req = st.request
  st.request = nil
  if req and req.id then
    local client = client_of(st)
    if client then
      pcall(compat.cancel_request, client, req.id)
    end
  end
end

--- Is the buffer still exactly where it was when `req` was sent?
local function still_valid(bufnr, req)
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then
    return false
  end
  if not in_insert() or api.nvim_buf_get_changedtick(bufnr) ~= req.tick then
    return false
  end
  local row, col = cursor()
  return row == req.row and col == req.col
end

local function snippet_text(value)
  local ok, grammar = pcall(require, "vim.lsp._snippet_grammar")
  if ok then
    local parsed_ok, parsed = pcall(grammar.parse, value)
    if parsed_ok then
      return tostring(parsed)
    end
  end
  return value
end

--- Turns an inlineCompletion result into items that insert at the cursor (req.row, req.col).
local function parse_items(bufnr, client, result, req)
  local raw = result and (result.items or result) or {}
  local line = api.nvim_buf_get_lines(bufnr, req.row, req.row + 1, false)[1] or ""
  local items, seen = {}, {}
  for _, entry in ipairs(raw) do
    local text = entry.insertText
    if type(text) == "table" then
      text = snippet_text(text.value or "")
    end
    local item = type(text) == "string" and { text = text, id = item_id(entry) } or nil
    if item and entry.range then
      local start, finish = entry.range.start, entry.range["end"]
      if start.line ~= req.row or finish.line ~= req.row then
        item = nil -- multi-line replacements are not shown
      else
        local util = vim.lsp.util
        local scol = util._get_line_byte_from_position(bufnr, start, client.offset_encoding)
        local ecol = util._get_line_byte_from_position(bufnr, finish, client.offset_encoding)
        if scol > req.col or ecol < req.col then
          item = nil
        else
          local typed = line:sub(scol + 1, req.col)
          if item.text:sub(1, #typed) ~= typed then
            item = nil
          else
            item.text = item.text:sub(#typed + 1)
            if ecol > req.col then
              item.end_col = ecol
            end
          end
        end
      end
    end
    if item then
      item.text = item.text:gsub("\r\n", "\n")
      if item.text ~= "" and not seen[item.text] then
        seen[item.text] = true
        items[#items + 1] = item
      end
    end
  end
  return items
end

--- Sends textDocument/inlineCompletion for the cursor position of `bufnr`.
function M.request(bufnr, invoked, cycle)
  local st = buffers[bufnr]
  if not st or api.nvim_get_current_buf() ~= bufnr then
    return false
  end
  local client = client_of(st)
  if not client then
    return false
  end
  cancel(bufnr)
  local row, col = cursor()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = invoked and TRIGGER_INVOKED or TRIGGER_AUTOMATIC }
  ---@type codecomp.Request
  local req = {
    row = row,
    col = col,
    tick = api.nvim_buf_get_changedtick(bufnr),
    uri = params.textDocument.uri,
    position = params.position,
    invoked = invoked or false,
    cycle = cycle,
  }
  st.request = req
  st.counters.requests = st.counters.requests + 1
  local ok, id = compat.request(client, METHOD, params, function(err, result)
    if st.request ~= req then
      return
    end
    st.request = nil
    st.counters.responses = st.counters.responses + 1
    if err then
      st.counters.errors = st.counters.errors + 1
      if err.code ~= -32800 then -- RequestCancelled
        vim.notify_once("codecomp: " .. tostring(err.message), vim.log.levels.WARN)
      end
      return
    end
    if not still_valid(bufnr, req) then
      return
    end
    local items = parse_items(bufnr, client, result, req)
    if #items == 0 then
      if not invoked then
        hide(bufnr)
      end
      return
    end
    show(bufnr, items, req.row, req.col, invoked, true)
    if req.cycle and #items > 1 then
      M.cycle(bufnr, req.cycle)
    end
  end, bufnr)
  if not ok then
    st.request = nil
    return false
  end
  req.id = id
  -- The version the server has now: client:request flushed the pending didChange.
  req.version = vim.lsp.util.buf_versions[bufnr]
  return true
end

--- Handler of codecomp/completionStream: repaint the pending request's suggestion as it grows.
function M.on_stream(params, _)
  if not config().stream then
    return
  end
  for bufnr, st in pairs(buffers) do
    local req = st.request
    if
      req
      and req.uri == params.uri
      and req.version == params.version
      and params.position
      and req.position.line == params.position.line
      and req.position.character == params.position.character
      and still_valid(bufnr, req)
    then
      st.counters.stream = st.counters.stream + 1
      local text = type(params.text) == "string" and params.text:gsub("\r\n", "\n") or ""
      if text ~= "" then
        -- Partial text first; the response replaces it with all (post-processed) candidates.
        local shown = st.items and st.items[st.index]
        if not (req.invoked and shown) then
          show(bufnr, { { text = text } }, req.row, req.col, false, false)
          st.counters.stream_painted = st.counters.stream_painted + 1
        end
      elseif params.done and not req.invoked then
        hide(bufnr)
      end
      return
    end
  end
end

--- Is a menu completion request of this client for this buffer still running? The server
--- answers one request per document at a time (a newer one supersedes the older), so an
--- automatic inline request would empty the menu.
local function menu_request_pending(st, bufnr)
  local client = client_of(st)
  for _, request in pairs(client and client.requests or {}) do
    if
      request.type == "pending"
      and request.bufnr == bufnr
      and request.method == "textDocument/completion"
    then
      return true
    end
  end
  return false
end

local MAX_POSTPONE = 40 -- debounce periods to wait for the menu's request

local function schedule_request(bufnr, postponed)
  local st = buffers[bufnr]
  if not st or not enabled or not require("codecomp").config.ghost_text.enabled then
    return
  end
  st.timer = st.timer or uv.new_timer()
  st.timer:stop()
  st.timer:start(
    config().debounce_ms or 150,
    0,
    vim.schedule_wrap(function()
      if buffers[bufnr] ~= st or not in_insert() or api.nvim_get_current_buf() ~= bufnr then
        return
      end
      if config().hide_during_menu and vim.fn.pumvisible() == 1 then
        return -- asked again when the menu closes (CompleteDone)
      end
      if menu_request_pending(st, bufnr) and (postponed or 0) < MAX_POSTPONE then
        schedule_request(bufnr, (postponed or 0) + 1)
        return
      end
      M.request(bufnr, false)
    end)
  )
end

-- Events ------------------------------------------------------------------------------------------

local function on_insert_char_pre(bufnr)
  local st = buffers[bufnr]
  local item = st and st.items and st.items[st.index]
  if not item then
    return
  end
  local char = vim.v.char
  local row, col = cursor()
  if char ~= "" and item.text:sub(1, #char) == char and st.anchor and st.anchor.row == row then
    st.typed = { char = char, row = row, col = col }
  else
    st.typed = nil
  end
end

local function on_text_changed(bufnr)
  local st = buffers[bufnr]
  if not st then
    return
  end
  local tick = api.nvim_buf_get_changedtick(bufnr)
  if st.own_tick == tick then
    return -- our own edit (accepting): the rest of the suggestion stays
  end
  st.own_tick = nil
  local typed = st.typed
  st.typed = nil
  local row, col = cursor()
  if typed and st.items and row == typed.row and col == typed.col + #typed.char then
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    if line:sub(typed.col + 1, col) == typed.char then
      -- Typed what the suggestion said: keep showing the rest, no new request.
      local rest = {}
      for _, item in ipairs(st.items) do
        if item.text:sub(1, #typed.char) == typed.char and #item.text > #typed.char then
          rest[#rest + 1] =
            { text = item.text:sub(#typed.char + 1), end_col = item.end_col, id = item.id }
        end
      end
      if #rest > 0 then
        -- A streamed suggestion is not final: keep showing it, but ask again for the real one.
        local provisional = st.request ~= nil or not st.final
        cancel(bufnr)
        local current = st.items[st.index].text:sub(#typed.char + 1)
        show(bufnr, rest, row, col, st.invoked, not provisional)
        if provisional then
          schedule_request(bufnr)
        end
        for i, item in ipairs(rest) do
          if item.text == current then
            st.index = i
            render(bufnr)
          end
        end
        st.counters.typed_ahead = st.counters.typed_ahead + 1
        return
      end
    end
  end
  hide(bufnr)
  schedule_request(bufnr)
end

local function on_cursor_moved(bufnr)
  local st = buffers[bufnr]
  if not st then
    return
  end
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local row, col = cursor()
  if st.anchor and st.anchor.tick == tick and (st.anchor.row ~= row or st.anchor.col ~= col) then
    cancel(bufnr)
    hide(bufnr)
  elseif st.request and st.request.tick == tick then
    if st.request.row ~= row or st.request.col ~= col then
      cancel(bufnr)
    end
  end
end

function M.attach(bufnr, client_id)
  if buffers[bufnr] then
    buffers[bufnr].client_id = client_id
    return
  end
  buffers[bufnr] = {
    client_id = client_id,
    index = 1,
    invoked = false,
    painted = false,
    counters = {
      requests = 0,
      responses = 0,
      errors = 0,
      stream = 0,
      stream_painted = 0,
      typed_ahead = 0,
      accepted = 0,
    },
  }
  local group = api.nvim_create_augroup("codecomp_ghost_" .. bufnr, { clear = true })
  local function on(events, fn)
    api.nvim_create_autocmd(events, {
      group = group,
      buffer = bufnr,
      callback = function()
        fn(bufnr)
      end,
    })
  end
  on("InsertCharPre", on_insert_char_pre)
  on({ "TextChangedI", "TextChangedP" }, on_text_changed)
  on("CursorMovedI", on_cursor_moved)
  on({ "InsertLeave", "BufLeave" }, function(b)
    cancel(b)
    hide(b)
  end)
  on("InsertEnter", function(b)
    if config().on_insert_enter then
      schedule_request(b)
    end
  end)
  on("CompleteChanged", function(b)
    if config().hide_during_menu then
      clear_marks(b)
    end
  end)
  on("CompleteDone", function(b)
    local st = buffers[b]
    if not st then
      return
    end
    local row, col = cursor()
    if st.items and st.anchor and st.anchor.row == row and st.anchor.col == col then
      render(b)
    elseif in_insert() and not st.request then
      schedule_request(b)
    end
  end)
  on({ "BufUnload", "BufWipeout" }, M.detach)
end

function M.detach(bufnr)
  local st = buffers[bufnr]
  if not st then
    return
  end
  cancel(bufnr)
  hide(bufnr)
  if st.timer and not st.timer:is_closing() then
    st.timer:close()
  end
  buffers[bufnr] = nil
  pcall(api.nvim_del_augroup_by_name, "codecomp_ghost_" .. bufnr)
end

function M.set_enabled(value)
  enabled = value
  if not value then
    for bufnr, _ in pairs(buffers) do
      cancel(bufnr)
      hide(bufnr)
    end
  end
end

-- Actions -----------------------------------------------------------------------------------------

--- The part of `text` that accept-word / accept-line / accept take.
function M.split(text, mode)
  if mode == "word" then
    return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text:match("^%s+") or text
  elseif mode == "line" then
    return text:match("^[^\n]*\n?")
  end
  return text
end

local function visible_item(bufnr)
  local st = buffers[bufnr]
  if not st or not st.items or not st.anchor then
    return nil
  end
  local row, col = cursor()
  if api.nvim_get_current_buf() ~= bufnr or row ~= st.anchor.row or col ~= st.anchor.col then
    return nil
  end
  if api.nvim_buf_get_changedtick(bufnr) ~= st.anchor.tick or not st.painted then
    return nil
  end
  return st.items[st.index]
end

--- The text of the suggestion shown at the cursor, or nil.
function M.current(bufnr)
  local item = visible_item(bufnr)
  return item and item.text or nil
end

--- Inserts all or part ("word", "line") of the visible suggestion. False when none is shown.
function M.accept(bufnr, mode)
  local item = visible_item(bufnr)
  if not item then
    return false
  end
  local st = buffers[bufnr]
  cancel(bufnr)
  local part = M.split(item.text, mode)
  local rest = item.text:sub(#part + 1)
  local row, col = st.anchor.row, st.anchor.col
  local end_col = (rest == "" and item.end_col) or col
  local lines = vim.split(part, "\n", { plain = true })
  api.nvim_buf_set_text(bufnr, row, col, row, end_col, lines)
  local new_row = row + #lines - 1
  local new_col = (#lines == 1 and col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  st.own_tick = api.nvim_buf_get_changedtick(bufnr)
  st.counters.accepted = st.counters.accepted + 1
  report(st, M.ACCEPT_METHOD, { id = item.id, kind = kind_of(mode), text = part })
  if rest ~= "" then
    local left = { text = rest, end_col = item.end_col, id = item.id }
    show(bufnr, { left }, new_row, new_col, false, st.final)
  else
    hide(bufnr)
  end
  return true
end

--- Moves to the next/previous candidate; asks the server for all candidates when it only has one.
function M.cycle(bufnr, delta)
  local st = buffers[bufnr]
  if not st then
    return false
  end
  local item = visible_item(bufnr)
  if not item or (#st.items == 1 and not st.invoked) then
    return M.request(bufnr, true, item and delta or nil)
  end
  local n = #st.items
  st.index = (st.index - 1 + delta) % n + 1
  render(bufnr)
  return true
end

function M.dismiss(bufnr)
  local st = buffers[bufnr]
  local item = visible_item(bufnr)
  local shown = item ~= nil
  if item and item.id then
    report(st, M.DISMISS_METHOD, { id = item.id })
  end
  if st then
    cancel(bufnr)
    hide(bufnr)
  end
  return shown
end

--- A snapshot for tests and :checkhealth.
function M.state(bufnr)
  local st = buffers[bufnr]
  if not st then
    return nil
  end
  return {
    client_id = st.client_id,
    items = vim.deepcopy(st.items or {}),
    index = st.index,
    pending = st.request ~= nil,
    scheduled = st.timer ~= nil and st.timer:is_active() or false,
    painted = st.painted,
    final = st.final,
    counters = vim.deepcopy(st.counters),
  }
end

function M.buffers()
  local list = {}
  for bufnr, _ in pairs(buffers) do
    list[#list + 1] = bufnr
  end
  return list
end

return M
