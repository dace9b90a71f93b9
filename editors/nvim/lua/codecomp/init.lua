--- codecomp.nvim: Neovim client for the codecomp-lsp AI completion server.
---
--- require("codecomp").setup({
---   cmd = { "codecomp-lsp" },          -- how to start the server
---   model = "/path/to/model",          -- sent as settings.model (init options)
---   settings = { maxNewTokens = 64 },  -- the `codecomp` settings table (see the server README)
---   keymaps = { accept = "<Tab>" },    -- false disables a mapping
--- })
local compat = require("codecomp.compat")

local api = vim.api

local M = {}

M.name = "codecomp"
M.STREAM_METHOD = "codecomp/completionStream"
M.STATS_METHOD = "codecomp/stats"
M.CURSOR_METHOD = "codecomp/cursor"
M.CURSOR_DEBOUNCE_MS = 150
M.MODELS_METHOD = "codecomp/models"
M.PULL_METHOD = "codecomp/pullModel"

--- Defaults; every key can be overridden in setup().
M.defaults = {
  -- Command that starts the server (stdio).
  cmd = { "codecomp-lsp" },
  -- Model directory, .gguf file or hub id; sent as `settings.model`. nil: the server's default.
  model = nil,
  -- The `codecomp` settings table (maxNewTokens, candidates, device, ...), sent as
  -- initializationOptions and answered to workspace/configuration.
  settings = {},
  filetypes = {
    "python",
    "javascript",
    "javascriptreact",
    "typescript",
    "typescriptreact",
    "go",
    "rust",
    "java",
    "c",
    "cpp",
  },
  root_markers = { ".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml" },
  ghost_text = {
    enabled = true,
    -- "auto": native vim.lsp.inline_completion on 0.12+, the plugin's extmarks before that;
    -- false: always the plugin's extmarks (they also paint codecomp/completionStream updates).
    native = "auto",
    -- Milliseconds after the last keystroke before a suggestion is requested.
    debounce_ms = 150,
    -- Paint the partial text of codecomp/completionStream notifications while decoding.
    stream = true,
    -- Do not show ghost text while the completion menu is open.
    hide_during_menu = true,
    -- Also ask for a suggestion when entering insert mode.
    on_insert_enter = false,
  },
  -- Menu completion through vim.lsp.completion (0.11+); autotrigger on the server's trigger
  -- characters, otherwise <C-x><C-o> (omnifunc) or require("codecomp").complete().
  completion = { enabled = true, autotrigger = false },
  keymaps = {
    accept = "<Tab>", -- falls through to the key's previous meaning when nothing is shown
    accept_word = "<M-w>",
    accept_line = "<M-l>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
  },
  -- Called as on_attach(client, bufnr) after the plugin has attached to a buffer.
  on_attach = nil,
}

M.config = vim.deepcopy(M.defaults)
M._setup_done = false

local function use_native()
  local mode = M.config.ghost_text.native
  if mode == false then
    return false
  end
  return compat.has_native_inline()
end

--- Whether this Neovim shows ghost text with vim.lsp.inline_completion (else: the plugin's extmarks).
function M.native_inline()
  return use_native()
end

--- The settings table sent to the server (model folded in); an empty object stays an object.
function M.server_settings()
  local settings = vim.deepcopy(M.config.settings or {})
  if M.config.model then
    settings.model = M.config.model
  end
  if next(settings) == nil then
    return vim.empty_dict()
  end
  return settings
end

--- Client capabilities: Neovim's own plus inline completion and our streaming extension.
function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion
    or { dynamicRegistration = false }
  caps.experimental = caps.experimental or {}
  caps.experimental.codecompCompletionStream = true
  return caps
end

--- The LSP client configuration (usable with vim.lsp.config or vim.lsp.start).
function M.lsp_config()
  local settings = M.server_settings()
  return {
    name = M.name,
    cmd = M.config.cmd,
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = { codecomp = settings },
    settings = { codecomp = settings },
    capabilities = M.capabilities(),
    handlers = {
      [M.STREAM_METHOD] = function(err, result, ctx)
        if not err and result then
          require("codecomp.ghost").on_stream(result, ctx)
        end
      end,
    },
  }
end

-- Keymaps -------------------------------------------------------------------------------------

local function feed(keys, remap)
  api.nvim_feedkeys(keys, (remap and "m" or "n") .. "i", false)
end

--- Runs what `lhs` meant before we mapped it (a saved mapping, else the key itself).
local function fallback(lhs, saved)
  if saved and not vim.tbl_isempty(saved) then
    if saved.callback then
      local result = saved.callback()
      if saved.expr == 1 and type(result) == "string" and result ~= "" then
        if saved.replace_keycodes == 1 then
          result = api.nvim_replace_termcodes(result, true, true, true)
        end
        feed(result, saved.noremap ~= 1)
      end
      return
    end
    local rhs = saved.rhs or ""
    if saved.expr == 1 then
      rhs = api.nvim_eval(rhs)
    end
    feed(api.nvim_replace_termcodes(rhs, true, true, true), saved.noremap ~= 1)
    return
  end
  feed(api.nvim_replace_termcodes(lhs, true, true, true), false)
end

local ACTIONS = {
  accept = { desc = "codecomp: accept suggestion", fn = "accept" },
  accept_word = { desc = "codecomp: accept next word", fn = "accept_word" },
  accept_line = { desc = "codecomp: accept line", fn = "accept_line" },
  next = { desc = "codecomp: next suggestion", fn = "next" },
  prev = { desc = "codecomp: previous suggestion", fn = "prev" },
  dismiss = { desc = "codecomp: dismiss suggestion", fn = "dismiss" },
}

local function set_keymaps(bufnr)
  for action, spec in pairs(ACTIONS) do
    local lhs = M.config.keymaps[action]
    if type(lhs) == "string" and lhs ~= "" then
      local saved = vim.fn.maparg(lhs, "i", false, true)
      if saved and saved.desc == spec.desc then
        saved = nil -- our own mapping from an earlier attach
      end
      vim.keymap.set("i", lhs, function()
        if not M[spec.fn](bufnr) then
          fallback(lhs, saved)
        end
      end, { buffer = bufnr, desc = spec.desc, silent = true })
    end
  end
end

-- Menu completion -----------------------------------------------------------------------------

local function is_ours(item)
  return type(item) == "table" and item.detail == "codecomp" and type(item.textEdit) == "table"
end

--- Neovim 0.11 inserts only the first non-blank run of a plain-text item's newText and does not
--- apply its textEdit; insert the whole first line instead (the rest follows on CompleteDone).
local function menu_convert(item)
  if not is_ours(item) then
    return {}
  end
  local text = (item.textEdit.newText or ""):gsub("\r\n", "\n")
  return { word = text:match("^[^\n]*") }
end

local function on_complete_done(bufnr)
  local event = vim.v.event or {}
  if event.reason ~= nil and event.reason ~= "accept" then
    return
  end
  local item = vim.tbl_get(vim.v.completed_item or {}, "user_data", "nvim", "lsp", "completion_item")
  if not is_ours(item) then
    return
  end
  local text = (item.textEdit.newText or ""):gsub("\r\n", "\n")
  local first_end = text:find("\n", 1, true)
  if not first_end or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local pos = api.nvim_win_get_cursor(0)
  local row, col = pos[1] - 1, pos[2]
  local line = api.nvim_get_current_line()
  local first = text:sub(1, first_end - 1)
  if line:sub(col - #first + 1, col) ~= first then
    return -- not what we inserted
  end
  local lines = vim.split(text:sub(first_end), "\n", { plain = true })
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  api.nvim_win_set_cursor(0, { row + #lines, #lines[#lines] })
end

--- (Re)enables menu completion in a buffer; opts.autotrigger overrides the configured one.
function M.enable_completion(bufnr, opts)
  local client = M.client(bufnr)
  if not client or not (vim.lsp.completion and vim.lsp.completion.enable) then
    return false
  end
  opts = opts or {}
  local autotrigger = opts.autotrigger
  if autotrigger == nil then
    autotrigger = M.config.completion.autotrigger
  end
  vim.lsp.completion.enable(false, client.id, bufnr)
  vim.lsp.completion.enable(true, client.id, bufnr, {
    autotrigger = autotrigger,
    convert = menu_convert,
  })
  local group = api.nvim_create_augroup("codecomp_menu_" .. bufnr, { clear = true })
  api.nvim_create_autocmd("CompleteDone", {
    group = group,
    buffer = bufnr,
    callback = function()
      on_complete_done(bufnr)
    end,
  })
  return true
end

-- Attaching -----------------------------------------------------------------------------------

local attached = {} -- bufnr -> client id

--- Tells the server where the cursor rests (codecomp/cursor) so it prefills the model's cache there
--- before the first keystroke; debounced, so only a cursor that stays is reported.
local cursor_timer = nil
local function report_cursor(client, bufnr)
  if cursor_timer then
    cursor_timer:stop()
  else
    cursor_timer = (vim.uv or vim.loop).new_timer()
  end
  cursor_timer:start(M.CURSOR_DEBOUNCE_MS, 0, vim.schedule_wrap(function()
    if attached[bufnr] ~= client.id or compat.is_stopped(client) then
      return
    end
    if api.nvim_get_current_buf() ~= bufnr then
      return
    end
    local params = vim.lsp.util.make_position_params(0, client.offset_encoding or "utf-16")
    compat.notify(client, M.CURSOR_METHOD, params)
  end))
end

local function on_attach(client, bufnr)
  if attached[bufnr] == client.id then
    return
  end
  attached[bufnr] = client.id
  api.nvim_create_autocmd({ "BufEnter", "CursorMoved", "CursorMovedI" }, {
    group = api.nvim_create_augroup("codecomp_cursor_" .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      report_cursor(client, bufnr)
    end,
  })
  report_cursor(client, bufnr)
  local cfg = M.config
  if cfg.ghost_text.enabled then
    if use_native() then
      compat.native_inline_enable(true, bufnr, client.id)
    else
      require("codecomp.ghost").attach(bufnr, client.id)
    end
  end
  if cfg.completion.enabled then
    M.enable_completion(bufnr)
  end
  set_keymaps(bufnr)
  if cfg.on_attach then
    cfg.on_attach(client, bufnr)
  end
end

local function on_detach(client_id, bufnr)
  if attached[bufnr] ~= client_id then
    return
  end
  attached[bufnr] = nil
  pcall(api.nvim_del_augroup_by_name, "codecomp_cursor_" .. bufnr)
  require("codecomp.ghost").detach(bufnr)
end

--- Registers the server (vim.lsp.config/enable on 0.11+, a FileType autocmd on 0.10).
function M.setup(opts)
  opts = opts or {}
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists replace the defaults rather than merging into them.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      M.config[key] = opts[key]
    end
  end
  if type(M.config.cmd) == "string" then
    M.config.cmd = { M.config.cmd }
  end
  M._setup_done = true
  -- Neovim 0.12's own inline completion runs an accepted item's command: ours reports it.
  vim.lsp.commands[require("codecomp.ghost").ACCEPT_COMMAND] = function(command, ctx)
    local args = type(command.arguments) == "table" and command.arguments[1] or nil
    local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
    if client and type(args) == "table" and type(args.id) == "string" then
      local params = { id = args.id, kind = "full", length = args.length }
      compat.notify(client, require("codecomp.ghost").ACCEPT_METHOD, params)
    end
  end

  api.nvim_set_hl(0, "CodecompSuggestion", { link = "Comment", default = true })
  api.nvim_set_hl(0, "CodecompSuggestionIndex", { link = "NonText", default = true })

  local group = api.nvim_create_augroup("codecomp", { clear = true })
  api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == M.name then
        on_attach(client, args.buf)
      end
    end,
  })
  api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      on_detach(args.data.client_id, args.buf)
    end,
  })
  api.nvim_create_autocmd("ColorScheme", {
    group = group,
    callback = function()
      api.nvim_set_hl(0, "CodecompSuggestion", { link = "Comment", default = true })
      api.nvim_set_hl(0, "CodecompSuggestionIndex", { link = "NonText", default = true })
    end,
  })

  local config = M.lsp_config()
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
  else
    -- Neovim 0.10: start the client ourselves.
    local filetypes = {}
    for _, ft in ipairs(config.filetypes) do
      filetypes[ft] = true
    end
    local function start(bufnr)
      if not filetypes[vim.bo[bufnr].filetype] or vim.bo[bufnr].buftype ~= "" then
        return
      end
      local fname = api.nvim_buf_get_name(bufnr)
      local root = vim.fs.root and vim.fs.root(bufnr, config.root_markers)
      local start_config = vim.tbl_extend("force", {}, config, {
        root_dir = root or (fname ~= "" and vim.fs.dirname(fname)) or vim.uv.cwd(),
      })
      start_config.filetypes, start_config.root_markers = nil, nil
      vim.lsp.start(start_config, { bufnr = bufnr })
    end
    api.nvim_create_autocmd("FileType", {
      group = group,
      callback = function(args)
        start(args.buf)
      end,
    })
    if vim.v.vim_did_enter == 1 then
      for _, bufnr in ipairs(api.nvim_list_bufs()) do
        if api.nvim_buf_is_loaded(bufnr) then
          start(bufnr)
        end
      end
    end
  end
end

-- Public actions --------------------------------------------------------------------------------

local function buf(bufnr)
  if bufnr == nil or bufnr == 0 then
    return api.nvim_get_current_buf()
  end
  return bufnr
end

--- The running codecomp client of a buffer (or any codecomp client when bufnr is nil).
function M.client(bufnr)
  local clients = compat.get_clients({ name = M.name, bufnr = bufnr })
  return clients[1]
end

local function native_call(name, ...)
  local ic = vim.lsp.inline_completion
  return ic and ic[name] and ic[name](...)
end

--- Accepts the whole visible suggestion; false when there is none.
function M.accept(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    return native_call("get", { bufnr = bufnr }) == true
  end
  return require("codecomp.ghost").accept(bufnr, "all")
end

--- Accepts the suggestion up to the end of its next word.
function M.accept_word(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    return compat.native_accept_part(bufnr, "word")
  end
  return require("codecomp.ghost").accept(bufnr, "word")
end

--- Accepts the suggestion up to and including its next line break.
function M.accept_line(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    return compat.native_accept_part(bufnr, "line")
  end
  return require("codecomp.ghost").accept(bufnr, "line")
end

--- Shows the next candidate (asking the server for several when only one is known).
function M.next(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    native_call("select", { bufnr = bufnr, count = 1 })
    return true
  end
  return require("codecomp.ghost").cycle(bufnr, 1)
end

function M.prev(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    native_call("select", { bufnr = bufnr, count = -1 })
    return true
  end
  return require("codecomp.ghost").cycle(bufnr, -1)
end

--- Hides the suggestion; false when nothing was shown.
function M.dismiss(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    return compat.native_dismiss(bufnr)
  end
  return require("codecomp.ghost").dismiss(bufnr)
end

--- Asks for a suggestion now (trigger kind Invoked: several candidates).
function M.suggest(bufnr)
  bufnr = buf(bufnr)
  if use_native() then
    native_call("get", { bufnr = bufnr })
    return true
  end
  return require("codecomp.ghost").request(bufnr, true)
end

--- Opens the completion menu with the server's candidates.
function M.complete()
  if vim.lsp.completion and vim.lsp.completion.get then
    vim.lsp.completion.get()
  else
    api.nvim_feedkeys(api.nvim_replace_termcodes("<C-x><C-o>", true, true, true), "n", false)
  end
end

--- The text of the visible suggestion (plugin ghost text only), or nil.
function M.suggestion(bufnr)
  return require("codecomp.ghost").current(buf(bufnr))
end

function M.is_visible(bufnr)
  return M.suggestion(bufnr) ~= nil
end

--- Turns automatic ghost text on or off (nil: toggle). Returns the new state.
function M.toggle(enable)
  if enable == nil then
    enable = not M.config.ghost_text.enabled
  end
  M.config.ghost_text.enabled = enable
  if use_native() then
    for bufnr, _ in pairs(attached) do
      compat.native_inline_enable(enable, bufnr)
    end
  else
    require("codecomp.ghost").set_enabled(enable)
  end
  return enable
end

--- A request to the codecomp server: async with `callback(err, result)`, else synchronous
--- (returns result, err within `timeout_ms`). Params default to an empty object.
local function server_request(method, params, callback, timeout_ms)
  local client = M.client()
  if not client then
    local err = { message = "no codecomp client is running" }
    if callback then
      callback(err, nil)
      return
    end
    return nil, err
  end
  params = params or vim.empty_dict()
  if callback then
    compat.request(client, method, params, function(err, result)
      callback(err, result)
    end)
    return
  end
  local response, err = compat.request_sync(client, method, params, timeout_ms or 3000)
  if not response then
    return nil, { message = err or "no answer" }
  end
  return response.result, response.err
end

--- Calls codecomp/stats; callback(err, result). Synchronous (returns result, err) without one.
function M.stats(callback, params)
  return server_request(M.STATS_METHOD, params, callback)
end

-- Models ----------------------------------------------------------------------------------------

--- Calls codecomp/models (the catalog, what is pulled, the recommended model); callback(err, result).
--- Synchronous (returns result, err) without one.
function M.models(callback, timeout_ms)
  return server_request(M.MODELS_METHOD, nil, callback, timeout_ms)
end

--- The catalog's model names starting with `prefix` (for :CodecompPull completion).
function M.model_names(prefix)
  local result = M.models(nil, 2000)
  local names = {}
  for _, model in ipairs(type(result) == "table" and result.models or {}) do
    if type(model.name) == "string" and vim.startswith(model.name, prefix or "") then
      names[#names + 1] = model.name
    end
  end
  return names
end

local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO)
end

--- Reports of a pull's `$/progress`: on each new stage and every 10 percent, not every report.
local function progress_notifier()
  local last_stage, last_percent
  return function(value)
    if value.kind ~= "report" or type(value.message) ~= "string" then
      return
    end
    local stage = value.message:match("^(%S+)")
    local percent = type(value.percentage) == "number" and value.percentage or nil
    local due = stage ~= last_stage
      or (
        percent ~= nil
        and (
          last_percent == nil
          or percent >= last_percent + 10
          or (percent == 100 and last_percent ~= 100)
        )
      )
    if due then
      last_stage, last_percent = stage, percent
      notify(("codecomp: %s%s"):format(value.message, percent and (" (" .. percent .. "%)") or ""))
    end
  end
end

--- Follows the `$/progress` of this client whose begin has the title "codecomp: pulling NAME".
--- Returns a function that stops following.
local function follow_pull_progress(client, name, on_value)
  local title = "codecomp: pulling " .. name
  local tokens = {}
  local id = api.nvim_create_autocmd("LspProgress", {
    callback = function(args)
      local data = args.data or {}
      local params = data.params or {}
      local value = params.value
      if data.client_id ~= client.id or type(value) ~= "table" or params.token == nil then
        return
      end
      if value.kind == "begin" and value.title == title then
        tokens[params.token] = true
      end
      if tokens[params.token] then
        on_value(value)
        if value.kind == "end" then
          tokens[params.token] = nil
        end
      end
    end,
  })
  return function()
    pcall(api.nvim_del_autocmd, id)
  end
end

--- Pulls a catalog model with codecomp/pullModel (nil name: the recommended one from
--- codecomp/models), showing its progress with vim.notify.
--- opts: callback(err, result) when it is done ({ name, path, switching }), on_progress(value) with
--- every `$/progress` value of the pull (begin, report, end), notify = false for no messages.
function M.pull(name, opts)
  opts = opts or {}
  local say = opts.notify == false and function() end or notify
  local function done(err, result)
    if opts.callback then
      opts.callback(err, result)
    end
  end
  local client = M.client()
  if not client then
    local err = { message = "no codecomp client is running" }
    say("codecomp: " .. err.message, vim.log.levels.ERROR)
    done(err, nil)
    return
  end
  if name == nil or name == "" then
    -- Through M.models, so that a caller (or a test) can wrap it.
    M.models(function(err, result)
      local recommended = not err and type(result) == "table" and result.recommended or nil
      if type(recommended) ~= "string" then
        err = err or { message = "the server recommends no model: name one (:CodecompPull NAME)" }
        say("codecomp: " .. tostring(err.message), vim.log.levels.ERROR)
        done(err, nil)
        return
      end
      M.pull(recommended, opts)
    end)
    return
  end

  local report = progress_notifier()
  local unfollow = follow_pull_progress(client, name, function(value)
    if opts.on_progress then
      opts.on_progress(value)
    end
    if opts.notify ~= false then
      report(value)
    end
  end)
  say(("codecomp: pulling %s…"):format(name))
  local sent = compat.request(client, M.PULL_METHOD, { name = name }, function(err, result)
    unfollow()
    if err then
      say(
        ("codecomp: pulling %s failed: %s"):format(name, tostring(err.message)),
        vim.log.levels.ERROR
      )
    elseif type(result) == "table" and result.switching == false then
      say(
        ("codecomp: %s is installed; the configured model still answers (setup{ model = %q } would use it)"):format(
          name,
          name
        )
      )
    else
      say(("codecomp: %s is installed"):format(name))
    end
    done(err, result)
  end)
  if not sent then
    unfollow()
    local err = { message = "the request was not sent (the client stopped?)" }
    say(("codecomp: pulling %s failed: %s"):format(name, err.message), vim.log.levels.ERROR)
    done(err, nil)
  end
end

return M
