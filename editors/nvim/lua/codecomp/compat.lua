--- Small shims over the Neovim 0.10 / 0.11 / 0.12 API differences.
local api = vim.api

local M = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

--- vim.lsp.inline_completion (0.12+) with the API this plugin drives.
function M.has_native_inline()
  local ic = vim.lsp.inline_completion
  return ic ~= nil and type(ic.enable) == "function" and type(ic.get) == "function"
end

function M.get_clients(filter)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter)
end

function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  if has_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

function M.cancel_request(client, id)
  if has_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

function M.stop(client, force)
  if has_011 then
    return client:stop(force)
  end
  return client.stop(force)
end

-- Native inline completion (0.12+) ----------------------------------------------------------------

function M.native_inline_enable(enable, bufnr, client_id)
  local ic = vim.lsp.inline_completion
  if not ic then
    return
  end
  local ok = pcall(ic.enable, enable, { bufnr = bufnr, client_id = client_id })
  if not ok then
    pcall(ic.enable, enable, { bufnr = bufnr })
  end
end

local native_ns
local function native_visible(bufnr)
  native_ns = native_ns or api.nvim_create_namespace("nvim.lsp.inline_completion")
  return #api.nvim_buf_get_extmarks(bufnr, native_ns, 0, -1, { limit = 1 }) > 0
end

--- Hides the native suggestion by re-enabling inline completion (no public dismiss API).
function M.native_dismiss(bufnr)
  if not native_visible(bufnr) then
    return false
  end
  M.native_inline_enable(false, bufnr)
  M.native_inline_enable(true, bufnr)
  return true
end

--- Accepts part (a word or a line) of the native suggestion through get()'s on_accept hook.
function M.native_accept_part(bufnr, mode)
  local ic = vim.lsp.inline_completion
  local ghost = require("codecomp.ghost")
  return ic.get({
    bufnr = bufnr,
    on_accept = function(item)
      local text = item.insert_text
      if type(text) == "table" then
        text = text.value
      end
      local win = api.nvim_get_current_win()
      local row, col = unpack(api.nvim_win_get_cursor(win))
      row = row - 1
      local erow, ecol = row, col
      local ok, range = pcall(function()
        return item.range
      end)
      if ok and range and range.start then
        row, col = range.start.row, range.start.col
        erow, ecol = range.end_.row, range.end_.col
      end
      local part = ghost.split(text, mode)
      local args = type(item.command) == "table" and item.command.arguments
      local id = type(args) == "table" and type(args[1]) == "table" and args[1].id or nil
      local client = vim.lsp.get_client_by_id(item.client_id)
      if type(id) == "string" and client then
        pcall(M.notify, client, ghost.ACCEPT_METHOD, { id = id, kind = mode, text = part })
      end
      local lines = vim.split(part, "\n", { plain = true })
      api.nvim_buf_set_text(bufnr, row, col, erow, ecol, lines)
      api.nvim_win_set_cursor(win, {
        row + #lines,
        (#lines == 1 and col or 0) + #lines[#lines],
      })
    end,
  }) == true
end

return M
